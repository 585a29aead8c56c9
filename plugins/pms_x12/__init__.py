"""pms_x12: X12 5010 tools for pms. Today: validating files with pyx12 (the judge
every 837 we write must pass); the 837/835/270/276 readers and writers follow."""
