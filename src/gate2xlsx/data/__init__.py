"""The rows a workbook computes: the two-input gates' truth tables and CSV tables."""
