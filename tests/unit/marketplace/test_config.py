import pytest

from marketplace.config import ConfigurationError, load_settings


def test_embedded_defaults_need_nothing_set(tmp_path):
    settings = load_settings({}, str(tmp_path))

    assert settings["MARKETPLACE_ENV"] == "embedded"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'marketplace.db'}"
    assert settings["SEARCH_BACKEND"] == "local"
    assert settings["MAIL_TRANSPORT"] == "outbox"
    assert settings["MAIL_OUTBOX_DIR"] == str(tmp_path / "outbox")
    assert settings["REDIS_URL"] == ""


def test_embedded_secret_key_is_random_and_kept(tmp_path):
    first = load_settings({}, str(tmp_path))["SECRET_KEY"]
    again = load_settings({}, str(tmp_path))["SECRET_KEY"]
    other = load_settings({}, str(tmp_path / "other"))["SECRET_KEY"]

    assert len(first) >= 32
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({}, "SECRET_KEY, DATABASE_URL"),
        ({"SECRET_KEY": "s"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://x/y"}, "SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(tmp_path, environ, missing):
    with pytest.raises(ConfigurationError) as error:
        load_settings({"MARKETPLACE_ENV": "production", **environ}, str(tmp_path))
    assert str(error.value).endswith(missing)


def test_production_settings(tmp_path):
    settings = load_settings(
        {"MARKETPLACE_ENV": "production", "SECRET_KEY": "s3cret",
         "DATABASE_URL": "postgres://est:pw@db:5432/est"},
        str(tmp_path),
    )

    assert settings["SECRET_KEY"] == "s3cret"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://est:pw@db:5432/est"
    assert settings["SEARCH_BACKEND"] == "elasticsearch"
    assert settings["MAIL_TRANSPORT"] == "smtp"
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_unknown_mode_is_an_error(tmp_path):
    with pytest.raises(ConfigurationError, match="MARKETPLACE_ENV"):
        load_settings({"MARKETPLACE_ENV": "staging"}, str(tmp_path))


def test_create_app_in_production_names_what_is_missing(monkeypatch, tmp_path):
    from marketplace import create_app

    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("MARKETPLACE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(ConfigurationError, match="SECRET_KEY, DATABASE_URL"):
        create_app()


def test_math_threads_default_to_one_per_process(tmp_path):
    assert load_settings({}, str(tmp_path))["EMBEDDER_THREADS"] == 1
    assert load_settings({"EMBEDDER_THREADS": "4"}, str(tmp_path))["EMBEDDER_THREADS"] == 4


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_math_threads_must_be_a_positive_whole_number(tmp_path, bad):
    with pytest.raises(ConfigurationError, match="EMBEDDER_THREADS"):
        load_settings({"EMBEDDER_THREADS": bad}, str(tmp_path))


def test_an_index_prefix_keeps_deployments_apart_on_one_cluster(tmp_path):
    assert load_settings({}, str(tmp_path))["SEARCH_INDEX_PREFIX"] == "est"
    assert load_settings({"SEARCH_INDEX_PREFIX": "staging"},
                         str(tmp_path))["SEARCH_INDEX_PREFIX"] == "staging"


def test_elasticsearch_requests_time_out_and_retry_by_default(tmp_path):
    settings = load_settings({}, str(tmp_path))
    assert (settings["ELASTICSEARCH_TIMEOUT"], settings["ELASTICSEARCH_RETRIES"]) == (10.0, 3)
    settings = load_settings({"ELASTICSEARCH_TIMEOUT": "2.5", "ELASTICSEARCH_RETRIES": "0"},
                             str(tmp_path))
    assert (settings["ELASTICSEARCH_TIMEOUT"], settings["ELASTICSEARCH_RETRIES"]) == (2.5, 0)


@pytest.mark.parametrize(("name", "bad"), [
    ("ELASTICSEARCH_TIMEOUT", "0"), ("ELASTICSEARCH_TIMEOUT", "-1"),
    ("ELASTICSEARCH_TIMEOUT", "soon"), ("ELASTICSEARCH_TIMEOUT", "nan"),
    ("ELASTICSEARCH_TIMEOUT", "inf"), ("ELASTICSEARCH_RETRIES", "-1"),
    ("ELASTICSEARCH_RETRIES", "2.5"), ("ELASTICSEARCH_RETRIES", "many"),
])
def test_bad_elasticsearch_timeouts_and_retries_refuse_to_start(tmp_path, name, bad):
    with pytest.raises(ConfigurationError, match=name):
        load_settings({name: bad}, str(tmp_path))
