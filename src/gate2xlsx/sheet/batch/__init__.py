"""The sheets of many examples at once: the Truth table / Data sheet, the Decision map
and the Check sheet."""
