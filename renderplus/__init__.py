"""Render+ placeholder: the add-on's register() lands with the add-on work."""
