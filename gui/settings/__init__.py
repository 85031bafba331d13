"""What the user configures: the saved settings (file, keyring, environment), the
Settings dialog, and building the sandbox image the settings name."""
