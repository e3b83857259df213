"""What a letter is delivered as: print version, PDF, press CSV, JSON and deliveries."""
