"""Test helpers shared across suites (fake servers, clocks); no test files here."""
