"""One date/time format across the console: ISO-like, with seconds and the zone's name.

Django's admin renders every datetime through these (FORMAT_MODULE_PATH), after converting
it to the user's display time zone (voiceops.console.middleware).
"""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
