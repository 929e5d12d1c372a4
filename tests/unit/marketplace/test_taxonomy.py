import json
from importlib import resources

from marketplace.taxonomy import taxonomy


def test_design_sectors_are_in_the_tree():
    tree = taxonomy()
    assert [root.code for root in tree.roots()] == [
        "WAT", "WST", "AIR", "CPP", "SOL", "ENE", "MON", "GSC", "BIO", "CAD"]
    assert tree["WAT.MUN"].parent == "WAT"
    assert tree["WST.WTE"].name("en") == "Waste-to-energy"
    assert tree["WST.WTE"].name("zh") == "垃圾焚烧发电"


def test_codes_are_unique_in_the_data_file():
    raw = json.loads(resources.files("marketplace").joinpath("data/taxonomy.json").read_text())
    codes = []

    def walk(nodes):
        for node in nodes:
            codes.append(node["code"])
            walk(node.get("children", []))

    walk(raw["sectors"])
    assert len(codes) == len(set(codes)) == len(taxonomy().sectors)


def test_ancestors_and_descendants():
    tree = taxonomy()
    assert tree.ancestors("ENE.SOL") == ["ENE.SOL", "ENE"]
    assert set(tree.descendants("AIR")) == {"AIR", "AIR.IND", "AIR.MON", "AIR.VEH"}
    assert tree.descendants("CPP") == ["CPP"]


def test_external_schemes_map_to_sectors():
    tree = taxonomy()
    assert "ENE.SOL" in tree.by_external_code("y02", "Y02E 10/50")
    assert "WST.WTE" in tree.by_external_code("ctcn", "Waste management: Waste-to-energy")


def test_choices_indent_children():
    choices = dict(taxonomy().choices("en"))
    assert choices["WAT"] == "Water"
    assert choices["WAT.SLU"] == "— Sludge"


def test_the_crosswalk_relates_sectors_that_share_a_ctcn_sector_or_y02_class():
    crosswalk = taxonomy().crosswalk()
    assert "ENE.BIO" in crosswalk["WST.BIO"] and "WST.BIO" in crosswalk["ENE.BIO"]  # Y02E 50/30
    assert "AIR.IND" in crosswalk["WAT.IND"]  # Y02P 70
    assert "AIR.VEH" in crosswalk["ENE.TRN"]  # CTCN "Transport" holds "Transport: Vehicle..."
    # A bare Y02 subclass ("Y02A") spans too much to relate adaptation to all of water.
    assert "WAT.DRK" not in crosswalk["CAD"]
    assert "AIR" not in crosswalk["WAT.STM"]  # Y02A 50/00 and Y02A 50/20 are different groups


def test_the_app_gives_the_fit_its_crosswalk(monkeypatch):
    from marketplace import create_app
    from search.fit import sector_relation

    monkeypatch.setattr("search.fit._CROSSWALK", {})
    assert sector_relation(["WST", "WST.BIO"], ["ENE", "ENE.BIO"]) is None
    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert sector_relation(["WST", "WST.BIO"], ["ENE", "ENE.BIO"]) == "crosswalk"
