"""The .xlsx file itself: the streaming writer, the rows it takes, shared formulas,
and the package shaped as Excel writes it."""
