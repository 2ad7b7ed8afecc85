"""Pure parts on their own: clock, status machine, day grid, free slots, recurrence."""
