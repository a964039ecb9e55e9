"""Tests of the local servers and stack."""
