"""The always-on service: one composition root per profile, the scheduler, the status board,
the loopback control endpoint, single instance, logs and autostart."""
