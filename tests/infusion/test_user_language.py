"""Issue 15: the language is the user's (a profile setting chosen at the first sign-in and
changed with the switch), not a cookie's: pages and PDFs follow the signed-in user."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_pdf_cache(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def order_sheet_text(client, episode):
    response = client.get(f"/infusion/episodes/{episode.pk}/order-sheet.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def sign_in(client, user):
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response


def page_language(client, path="/"):
    body = client.get(path).content.decode()
    return body.split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_fresh_english_sign_in_gets_an_english_order_sheet(verified_episode, physician):
    physician.language = ""  # never signed in
    physician.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(client, physician)
    physician.refresh_from_db()
    assert physician.language == "en"
    text = order_sheet_text(client, verified_episode)
    assert "Dexamethasone" in text and "地塞米松" not in text


def test_the_first_sign_in_on_the_chinese_page_chooses_chinese_and_says_where_to_change_it(
    verified_episode, physician
):
    physician.language = ""
    physician.save()
    client = Client()
    client.post("/language/", {"language": "zh-hans", "next": "/login/"})  # the login page's switch
    response = sign_in(client, physician)
    physician.refresh_from_db()
    assert physician.language == "zh-hans"
    home = client.get(response["Location"]).content.decode()
    assert '<html lang="zh-hans"' in home
    assert "地塞米松" in order_sheet_text(client, verified_episode)


def test_pages_and_pdfs_follow_the_user_not_the_tablets_cookie(verified_episode, physician):
    physician.language = "en"
    physician.save()
    client = Client()
    client.cookies["django_language"] = "zh-hans"  # left by the previous user of the tablet
    sign_in(client, physician)
    assert page_language(client) == "en"
    text = order_sheet_text(client, verified_episode)
    assert "Dexamethasone" in text and "地塞米松" not in text


def test_the_switch_is_kept_on_the_user_and_follows_them_to_another_device(
    verified_episode, physician
):
    physician.language = "en"
    physician.save()
    tablet = Client()
    sign_in(tablet, physician)
    tablet.post("/language/", {"language": "zh-hans", "next": "/"})
    physician.refresh_from_db()
    assert physician.language == "zh-hans"
    desktop = Client(HTTP_ACCEPT_LANGUAGE="en")
    sign_in(desktop, physician)
    assert page_language(desktop) == "zh-hans"
    assert "地塞米松" in order_sheet_text(desktop, verified_episode)


def test_one_users_switch_does_not_change_the_next_users_language(
    verified_episode, physician, physician2
):
    physician.language = "en"
    physician.save()
    physician2.language = "en"
    physician2.save()
    tablet = Client()
    sign_in(tablet, physician2)
    tablet.post("/language/", {"language": "zh-hans", "next": "/"})
    tablet.post("/logout/")
    sign_in(tablet, physician)  # same tablet, the cookie still says Chinese
    physician.refresh_from_db()
    assert physician.language == "en"
    assert page_language(tablet) == "en"
    assert "地塞米松" not in order_sheet_text(tablet, verified_episode)
