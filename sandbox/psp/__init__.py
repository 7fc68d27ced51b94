"""The fake payment app (PSP): the seven endpoints a Genstore payment app implements (seed 001),
its buyer pages (3-D Secure, offsite checkout) and its result callbacks. It learns about a
payment only from the requests it receives, and tells the platform only through callbacks."""
