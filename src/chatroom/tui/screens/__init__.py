"""The app's screens: servers, login (with the certificate question), chat."""
