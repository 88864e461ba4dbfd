"""Text and styles the workbook shows; edit these files, not the code, to change wording or
colours."""
