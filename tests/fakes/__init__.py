"""Stand-ins for the outside world (chat platforms), never for pocnet's own parts."""
