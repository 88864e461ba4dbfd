"""The workbook side: the export's decisions (spec) -> a plan of regions per sheet (plan and
one module per sheet) -> formula text (formulas) -> the streaming writer (writer, stream)."""
