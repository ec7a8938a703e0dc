"""The review site over HTTP (Starlette's test client): the token, the headers, safe rendering of
hostile student content, saving into the overrides file and re-rendering the reports."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from review_support import make_batch  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from grader.results import load_batch  # noqa: E402
from grader.review.server import PAGE_CSP, REPORT_CSP, ReviewSettings, make_app  # noqa: E402
from grader.review.store import open_review  # noqa: E402

TOKEN = "t0ken-for-tests"


@pytest.fixture
def site(tmp_path: Path) -> tuple[TestClient, Path]:
    out, rubric = make_batch(tmp_path)
    store = open_review(out, str(rubric))
    app = make_app(store, ReviewSettings(TOKEN, "en"))
    return TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False), out


def _save(client: TestClient, folder: str, data: dict[str, str]) -> object:
    return client.post(f"/{TOKEN}/s/{folder}", data=data, headers={"origin": "http://127.0.0.1:8000"})


def test_requests_without_the_token_are_refused(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    for path in ("/", "/s/alice_smith", f"/{TOKEN[:-1]}/", f"/{TOKEN}x/", f"/x{TOKEN}/s/alice_smith",
                 "/static/review.js", f"/%2F{TOKEN}/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Alice" not in response.text
    assert client.post("/s/alice_smith", data={"points:conclusions": "3"}).status_code == 403
    assert client.get(f"/{TOKEN}/").status_code == 200


def test_a_foreign_host_or_origin_is_refused(site: tuple[TestClient, Path]) -> None:
    client, out = site
    assert client.get(f"/{TOKEN}/", headers={"host": "attacker.example"}).status_code == 400
    response = client.post(f"/{TOKEN}/s/alice_smith", data={"points:conclusions": "3"},
                           headers={"origin": "http://attacker.example"})
    assert response.status_code == 403
    assert not (out / "grades" / "overrides.yaml").exists()


def test_pages_carry_a_strict_content_security_policy(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get(f"/{TOKEN}/s/alice_smith")
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert "script-src 'self'" in PAGE_CSP and "unsafe-inline" not in PAGE_CSP
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in page.text.replace('<script src="', "")  # no inline script at all
    assert client.get(f"/{TOKEN}/s/alice_smith/report").headers["content-security-policy"] == REPORT_CSP
    assert client.get(f"/{TOKEN}/static/review.js").status_code == 200


def test_hostile_student_content_is_shown_as_text(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get(f"/{TOKEN}/s/alice_smith").text
    assert "window.pwned" in page  # shown ...
    assert "<script>window.pwned" not in page and "<img src=x" not in page  # ... never as markup
    assert 'href="javascript:' not in page
    assert "Output not shown, for safety (text/html)." in page
    assert "&lt;b&gt;array([0, 1, 2])&lt;/b&gt;" in page
    assert 'src="data:image/png;base64,iVBOR' in page
    assert "<h2>Conclusions</h2>" in page  # markdown is rendered
    assert 'id="md-2"' in page and 'data-cells="2"' in page  # the manual item points at the conclusions


def test_the_index_shows_what_is_left(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get(f"/{TOKEN}/").text
    assert "Left to review in the class: 5" in page  # 4 manual items + Alice's flagged accuracy
    assert page.index("Alice Smith") < page.index("Bob Jones") < page.index("Carol White") < page.index("Пётр Петров")
    assert client.get(f"/{TOKEN}/s/%D0%9F%D1%91%D1%82%D1%80_%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2").status_code == 200
    assert "/s/%D0%9F%D1%91%D1%82%D1%80_%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2" in page  # a Cyrillic report folder
    assert "Code similarity was not checked" in page


def test_saving_writes_the_overrides_and_re_renders_the_reports(site: tuple[TestClient, Path]) -> None:
    client, out = site
    response = _save(client, "alice_smith", {"points:conclusions": "2,5", "comment:conclusions": "Мало примеров.",
                                             "points:accuracy": "4", "comment:accuracy": "Checked: plausible.",
                                             "points:augmentation": "", "comment:augmentation": ""})
    assert response.status_code == 303 and response.headers["location"] == f"/{TOKEN}/s/alice_smith?saved=1"
    overrides = (out / "grades" / "overrides.yaml").read_text(encoding="utf-8")
    assert "check: conclusions\n  points: 2.5\n  comment: Мало примеров." in overrides
    assert "check: accuracy\n  points: 4\n" in overrides and "augmentation" not in overrides
    alice = next(r for r in load_batch(out / "results.json").students if r.student == "Alice Smith")
    assert alice.score == 8.5
    report = (out / "alice_smith" / "report.html").read_text(encoding="utf-8")
    assert "Мало примеров." in report and "instructor&#39;s grade" in report
    with (out / "gradebook.csv").open(encoding="utf-8-sig") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert rows["Alice Smith"]["conclusions"] == "2.5"
    assert "8.5 / 9" in (out / "index.html").read_text(encoding="utf-8")
    page = client.get(response.headers["location"]).text
    assert "Saved to" in page and 'value="2.5"' in page and "Мало примеров." in page
    assert "all graded" in page
    assert "Left to review in the class: 3" in client.get(f"/{TOKEN}/").text


def test_clearing_the_points_removes_the_grade(site: tuple[TestClient, Path]) -> None:
    client, out = site
    _save(client, "bob_jones", {"points:conclusions": "3"})
    assert "Bob Jones" in (out / "grades" / "overrides.yaml").read_text(encoding="utf-8")
    _save(client, "bob_jones", {"points:conclusions": "", "comment:conclusions": ""})
    assert (out / "grades" / "overrides.yaml").read_text(encoding="utf-8").endswith("[]\n")
    bob = next(r for r in load_batch(out / "results.json").students if r.student == "Bob Jones")
    assert next(c for c in bob.checks if c.id == "conclusions").status == "manual"


@pytest.mark.parametrize(("points", "comment", "message"), [
    ("3.5", "", "3.5 is outside 0 to 3."),
    ("много", "", "“много” is not a number."),
    ("", "Хорошо", "a comment without points."),
    ("-1", "", "-1 is outside 0 to 3."),
    ("nan", "", "is not a number"),
])
def test_a_bad_form_is_explained_and_nothing_is_written(site: tuple[TestClient, Path], points: str, comment: str,
                                                        message: str) -> None:
    client, out = site
    before = (out / "results.json").read_text(encoding="utf-8")
    response = _save(client, "alice_smith", {"points:conclusions": points, "comment:conclusions": comment,
                                             "points:accuracy": "4"})
    assert response.status_code == 400
    assert message in response.text and "Not saved:" in response.text
    assert f'value="{points}"' in response.text  # what was typed stays in the box
    assert not (out / "grades" / "overrides.yaml").exists()
    assert (out / "results.json").read_text(encoding="utf-8") == before


def test_an_overrides_file_broken_by_hand_is_not_overwritten(site: tuple[TestClient, Path]) -> None:
    client, out = site
    path = out / "grades" / "overrides.yaml"
    path.parent.mkdir()
    path.write_text("- {student: Nobody, check: conclusions, points: 1}\n", encoding="utf-8")
    response = _save(client, "alice_smith", {"points:conclusions": "2"})
    assert response.status_code == 400
    assert "The overrides file is invalid, nothing was written" in response.text and "Nobody" in response.text
    assert path.read_text(encoding="utf-8") == "- {student: Nobody, check: conclusions, points: 1}\n"


def test_a_russian_csv_file_keeps_its_format_and_a_hand_written_file_is_backed_up(tmp_path: Path) -> None:
    out, rubric = make_batch(tmp_path)
    path = tmp_path / "grades.csv"
    path.write_text("student;check;points;comment\nbob_jones;conclusions;1,5;сделано вручную\n", encoding="utf-8-sig")
    store = open_review(out, str(rubric), path)
    assert next(c for c in store.batch().students[1].checks if c.id == "conclusions").points == 1.5  # merged at start
    client = TestClient(make_app(store, ReviewSettings(TOKEN, "ru")), base_url="http://127.0.0.1:8000")
    assert client.post(f"/{TOKEN}/s/carol_white", data={"points:conclusions": "0,5"}).status_code == 200
    assert path.read_text(encoding="utf-8-sig") == ("student;check;points;comment\n"
                                                    "bob_jones;conclusions;1,5;сделано вручную\n"
                                                    "Carol White;conclusions;0,5;\n")
    assert (tmp_path / "grades.csv.bak").read_text(encoding="utf-8-sig").count("\n") == 2


def test_save_and_next_goes_to_the_next_student(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    response = _save(client, "alice_smith", {"points:conclusions": "1", "go": "next"})
    assert response.headers["location"] == f"/{TOKEN}/s/bob_jones"
    response = _save(client, "bob_jones", {"points:conclusions": "1", "keyboard_go": "prev"})
    assert response.headers["location"] == f"/{TOKEN}/s/alice_smith"


def test_the_page_speaks_russian_and_remembers_it(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    page = client.get(f"/{TOKEN}/s/alice_smith?lang=ru")
    assert "Сохранить и дальше" in page.text and "Баллы (из 3)" in page.text and 'lang="ru"' in page.text
    assert "Отмечено для проверки" not in page.text  # Alice's flag is on a check, not on the whole work
    assert "Сохранить" in client.get(f"/{TOKEN}/s/bob_jones").text  # the cookie keeps the language
    bob = client.get(f"/{TOKEN}/s/bob_jones").text
    assert "Отмечено для проверки (вся работа)" in bob and "The grader&#39;s code was changed" in bob


def test_an_unknown_student_is_a_plain_404(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    assert client.get(f"/{TOKEN}/s/nobody").status_code == 404
    assert _save(client, "nobody", {"points:conclusions": "1"}).status_code == 404


def test_a_failed_write_is_explained(site: tuple[TestClient, Path]) -> None:
    client, out = site
    (out / "grades").write_text("a file where the folder should be", encoding="utf-8")
    before = (out / "results.json").read_text(encoding="utf-8")
    response = _save(client, "alice_smith", {"points:conclusions": "2"})
    assert response.status_code == 400 and "Could not save:" in response.text
    assert (out / "results.json").read_text(encoding="utf-8") == before


def test_similar_pairs_are_on_the_index_and_beside_each_student(site: tuple[TestClient, Path]) -> None:
    from grader.similarity.model import Pair, SimilarityReport, write_similarity

    client, out = site
    code = {"Alice Smith": "# cell 1\nx = compute(1)\n", "Carol White": "# cell 1\ny = compute(1)\n"}
    write_similarity(SimilarityReport("2026-12-01T11:00:00+00:00", 0.5, None, 4,
                                      {"Alice Smith": "a" * 64, "Carol White": "c" * 64}, code,
                                      (Pair("Alice Smith", "Carol White", 0.9, 0.8, 200, ((9, 23),), ((9, 23),)),)), out)
    index = client.get(f"/{TOKEN}/").text
    assert '<a href="/t0ken-for-tests/s/alice_smith">Alice Smith</a> (90%) — ' in index
    carol = client.get(f"/{TOKEN}/s/carol_white").text.split('id="similarity"')[1]
    assert carol.index("Carol White") < carol.index("Alice Smith")  # the student under review on the left
    assert "<mark>y = compute(1)</mark>" in carol and "<mark>x = compute(1)</mark>" in carol
    assert 'id="similarity"' not in client.get(f"/{TOKEN}/s/bob_jones").text
