"""The years and dates a record of the product may carry, for every layer that checks them: the
URLs' year converter and parameters, the filters, control runs, holdings, powers and rules."""

import datetime

MIN_YEAR, MAX_YEAR = 2000, 2100  # a register's year (a smallint in the database)
EARLIEST_DATE = datetime.date(MIN_YEAR, 1, 1)  # nothing the product records happened before it
