"""Each `booking` command through click's CliRunner; a mistake is one line on stderr."""
