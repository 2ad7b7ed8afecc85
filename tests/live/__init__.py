"""Real `booking serve` subprocesses: body limits, races, copies, deadlines, sync."""
