"""Language choice (switch, remembered; default from the browser) and security headers."""

from tests.fixtures.factories import csrf_token


def test_browser_language_chooses_chinese_by_default(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "您的加密资产被盗了" in page
    assert 'lang="zh-Hans"' in page


def test_english_is_the_default_for_other_browsers(client):
    page = client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert "Your crypto was stolen" in page


def test_language_switch_renders_chinese_and_is_remembered(client):
    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": "zh_Hans_CN", "next": "/staff/login", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    login_page = client.get("/staff/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "工作人员登录" in login_page
    landing = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "绝不会向您索要" in landing


def test_language_switch_does_not_redirect_off_site(client):
    token = csrf_token(client, "/")
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
        assert response.headers["Location"] == "/"


def test_every_response_carries_the_security_headers(client):
    for url in ("/", "/staff/login", "/no-such-page"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_use_no_inline_script_or_external_assets(client):
    page = client.get("/").get_data(as_text=True)
    assert "<script>" not in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_https_deployment_sets_secure_cookies_and_hsts(database_url, tmp_path):
    from casework import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, "HTTPS": True})
    # HTTPS is read from the environment normally; passing it here must have the same effect.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/staff/login", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
