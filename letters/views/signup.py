"""Signing a letter: the form, e-mail confirmation and withdrawal."""
