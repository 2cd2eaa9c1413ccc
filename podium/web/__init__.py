"""The web page: plain HTML, JavaScript and CSS files served as they are (podium/api/web.py)."""
