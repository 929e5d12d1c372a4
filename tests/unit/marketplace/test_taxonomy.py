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
