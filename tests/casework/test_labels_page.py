"""The labels page in the reader's language: category titles, not codes; a label's name is not a person's name."""

from casework.extensions import db
from casework.models import Role
from casework.services import labels
from evidence.labels import CATEGORIES

TOKEN = "0x" + "ab" * 20


def test_every_category_has_a_title():
    assert set(labels.CATEGORY_TITLES) == set(CATEGORIES)


def test_the_labels_page_in_chinese_names_categories_and_the_label_name(client, login, make_user):
    handler = make_user(Role.HANDLER)
    labels.save_label(handler, None, TOKEN, "Casework Demo USD", "token_contract")
    db.session.commit()
    login(handler)
    page = client.get("/staff/labels", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "<td>代币合约</td>" in page and "token_contract</td>" not in page
    assert '<th scope="col">名称</th>' in page and "姓名" not in page
    assert '<option value="token_contract">代币合约</option>' in page


def test_a_category_is_found_by_its_title(client, login, make_user):
    handler = make_user(Role.HANDLER)
    labels.save_label(handler, None, TOKEN, "Casework Demo USD", "token_contract")
    db.session.commit()
    login(handler)
    page = client.get("/staff/labels", query_string={"q": "代币合约"},
                      headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert TOKEN in page
