"""The workbook side: layout (where each block lives), formulas (their text), writer, read-back."""
