"""Writes: verbs, validated, permission-checked, audited, one transaction each.

Every command takes the engine and the acting `Identity` as keyword arguments, checks the
permission itself (hiding a button is not enough), and writes its audit row in the same
transaction as the change, so a failure between the two leaves nothing written.
"""
