"""The simulated Windows host: a WinRM endpoint on loopback (test fixture, never shipped)."""
