"""Writes of the calls domain. Import from the sub-modules."""
