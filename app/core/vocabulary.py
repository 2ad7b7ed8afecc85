"""The words every layer shares: booking statuses, days, recurrence frequencies, time units.

Each is written here once, so storage's SQL, the domain's rules, the sync merge and the pages
cannot drift apart. Which status may follow which is a rule, so the status machine itself lives
in the domain (app/domain/bookings.py `ALLOWED_MOVES`).
"""

# Booking statuses (API.md §4), in the order a booking lives through them.
PENDING = "pending"
CONFIRMED = "confirmed"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
CANCELLED = "cancelled"
NO_SHOW = "no_show"
# Active bookings hold their slot: they refuse an overlapping booking and hide free slots.
ACTIVE_STATUSES = (PENDING, CONFIRMED, CHECKED_IN)
# Terminal bookings never change status again, and their slot is free.
TERMINAL_STATUSES = (COMPLETED, CANCELLED, NO_SHOW)
STATUSES = ACTIVE_STATUSES + TERMINAL_STATUSES

# Days, Monday first as date.weekday() counts them: the keys of a resource's business hours,
# and RFC 5545's codes for a blocker's recurrence days.
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# How often a blocker may repeat: never finer than daily, which keeps its expansion cheap.
FREQUENCIES = ("daily", "weekly", "monthly", "yearly")

# Instants and lengths are integer milliseconds in every layer.
SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
# A booking lasts at most a day: validation refuses longer ones, and storage's overlap and
# window queries rely on it to look back no further than this from a window's start.
MAX_BOOKING_MINUTES = 24 * 60
