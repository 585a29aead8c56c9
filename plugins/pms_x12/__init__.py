"""pms_x12: X12 5010 for pms. Writes 837P/837I claims (checked by pyx12 before
they may leave), reads TA1, 999 and 277CA responses, and gives billers
`pms x12 validate` and `pms x12 show`."""
