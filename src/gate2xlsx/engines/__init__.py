"""Spreadsheet engines that recalculate the workbooks gate2xlsx writes (headless LibreOffice)."""
