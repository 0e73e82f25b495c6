# Load with app.config.from_object("production_settings").
SESSION_COOKIE_SECURE = True  # the cookie goes over https only
SESSION_COOKIE_HTTPONLY = True  # Flask's default: no JavaScript access
SESSION_COOKIE_SAMESITE = "Lax"  # the callback is a top-level GET from Google: Lax works
PERMANENT_SESSION_LIFETIME = 8 * 3600  # seconds a signed-in session lasts
