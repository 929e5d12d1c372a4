"""The demo world: invented organisations and people, real technical content.

Solutions are written from the real technologies in ``data/demo/technology-catalogue.csv``
(CC BY 4.0, see ``data/demo/NOTICE.md``) plus water, waste and air offers typical of the
Yixing and Wuzhou bases.  Everything is labelled "(Demo)" and ``is_demo``.  The world is the
same on every run (a seeded random generator).
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from argon2 import PasswordHasher
from tqdm import tqdm

from marketplace.constants import ASEAN_COUNTRIES
from marketplace.extensions import db
from marketplace.models import (
    Event,
    Issue,
    IssueEdition,
    IssueSection,
    ModerationDecision,
    Need,
    Organization,
    ReferenceProject,
    Solution,
    Subscriber,
    User,
)
from marketplace.models._time import utcnow
from marketplace.taxonomy import taxonomy
from marketplace.templating import shorten
from search import money

DEMO_PASSWORD = "demo-password-2026"
DOMAIN = "demo.est-marketplace.org"
LABEL = " (Demo)"

# (name, base, city, kind, specialities: sector roots the supplier is strong in)
SUPPLIERS = [
    ("Yixing Blue Water Environmental Engineering", "yixing", "Yixing", "enterprise", ["WAT"]),
    ("Yixing Membrane Technology", "yixing", "Yixing", "enterprise", ["WAT"]),
    ("Jiangsu Sludge Resource Recovery", "yixing", "Yixing", "enterprise", ["WAT", "WST"]),
    ("Yixing Clean Air Equipment", "yixing", "Yixing", "enterprise", ["AIR", "CPP"]),
    ("Wuzhou Renewable Resources Recycling", "wuzhou", "Wuzhou", "enterprise", ["WST"]),
    ("Guangxi Circular Economy Materials", "wuzhou", "Wuzhou", "enterprise", ["WST", "CPP"]),
    ("Wuzhou Green Metals", "wuzhou", "Wuzhou", "enterprise", ["WST", "CPP"]),
    ("Shenzhen Eco-Monitoring Systems", "shenzhen", "Shenzhen", "enterprise", ["MON", "AIR"]),
    ("Shenzhen New Energy Mobility", "shenzhen", "Shenzhen", "enterprise", ["ENE"]),
    ("Belt and Road Smart Grid Solutions", "shenzhen", "Shenzhen", "enterprise", ["ENE"]),
    ("Shenzhen Low-Carbon Buildings Institute", "shenzhen", "Shenzhen", "research_institute",
     ["ENE", "CAD"]),
    ("Hangzhou Solar Thermal", None, "Hangzhou", "enterprise", ["ENE"]),
    ("Chengdu Biogas Engineering", None, "Chengdu", "enterprise", ["ENE", "WST"]),
    ("Beijing Industrial Decarbonisation Centre", None, "Beijing", "research_institute",
     ["CPP", "ENE"]),
    ("Nanjing Agro-Environment Technology", None, "Nanjing", "enterprise", ["SOL", "BIO"]),
    ("Kunming Forest and Ecology Services", None, "Kunming", "enterprise", ["BIO", "CAD"]),
    ("Tianjin Wind Power Equipment", None, "Tianjin", "enterprise", ["ENE"]),
]

# (name, country, city, kind)
BUYERS = [
    ("Da Nang Water Supply", "VN", "Da Nang", "utility"),
    ("Hue City People's Committee", "VN", "Hue", "municipality"),
    ("Binh Duong Industrial Park Authority", "VN", "Thu Dau Mot", "industrial_park"),
    ("Bangkok Metropolitan Administration", "TH", "Bangkok", "municipality"),
    ("Eastern Seaboard Textiles", "TH", "Chonburi", "enterprise"),
    ("Chiang Mai Municipality", "TH", "Chiang Mai", "municipality"),
    ("Surabaya City Government", "ID", "Surabaya", "municipality"),
    ("PDAM Tirta Bandung", "ID", "Bandung", "utility"),
    ("Java Palm Oil Processing", "ID", "Semarang", "enterprise"),
    ("Penang Water Authority", "MY", "George Town", "utility"),
    ("Iskandar Industrial Park", "MY", "Johor Bahru", "industrial_park"),
    ("Kuching North City Hall", "MY", "Kuching", "municipality"),
    ("Cebu City Environment Office", "PH", "Cebu City", "municipality"),
    ("Laguna Lake Water District", "PH", "Calamba", "utility"),
    ("Manila Bay Food Processors", "PH", "Navotas", "enterprise"),
    ("Phnom Penh Capital Hall", "KH", "Phnom Penh", "municipality"),
    ("Siem Reap Water Supply Authority", "KH", "Siem Reap", "utility"),
    ("Vientiane Urban Development Authority", "LA", "Vientiane", "municipality"),
    ("Luang Prabang Water Supply", "LA", "Luang Prabang", "utility"),
    ("Yangon City Development Committee", "MM", "Yangon", "municipality"),
    ("Mandalay Industrial Zone", "MM", "Mandalay", "industrial_park"),
    ("Bandar Seri Begawan Municipal Board", "BN", "Bandar Seri Begawan", "municipality"),
    ("Brunei Energy Efficiency Unit", "BN", "Bandar Seri Begawan", "government_agency"),
    ("Jurong Island Utilities", "SG", "Singapore", "utility"),
    ("Singapore Green Buildings Cooperative", "SG", "Singapore", "enterprise"),
    ("Mekong Delta Aquaculture Cooperative", "VN", "Can Tho", "enterprise"),
]

# Sector codes for a catalogue row, by technology name first, then by technology group.
TECHNOLOGY_SECTORS = {
    "solar": ["ENE.SOL"], "wind": ["ENE.WND"], "storage": ["ENE.STO"], "battery": ["ENE.STO"],
    "biofuel": ["ENE.BIO"], "biorefinery": ["ENE.BIO"], "methane capture": ["WST.LFL", "ENE.BIO"],
    "energy-from-waste": ["WST.WTE"], "gasification of waste": ["WST.WTE"],
    "recycling": ["WST.REC"], "waste management": ["WST.COL"], "landfill": ["WST.LFL"],
    "manure": ["WST.BIO", "ENE.BIO"], "biochar": ["SOL.REM", "WST.BIO"],
    "urban forestry": ["BIO.FOR", "CAD"], "forest": ["BIO.FOR"], "afforestation": ["BIO.FOR"],
    "agroforestry": ["BIO.FOR"], "cool roof": ["CAD", "ENE.EFF"], "vehicle": ["ENE.TRN"],
    "transport": ["ENE.TRN"], "traffic": ["ENE.TRN", "AIR.VEH"], "braking": ["ENE.TRN"],
    "fuel cell": ["ENE.TRN", "ENE.STO"], "natural gas": ["ENE.TRN"], "hydrogen": ["ENE.STO"],
    "carbon capture": ["CPP"], "soil": ["SOL.REM"], "tillage": ["SOL.REM"],
    "bioplastics": ["GSC.ECO", "CPP"], "biopolymer": ["GSC.ECO", "CPP"],
}
GROUP_SECTORS = {
    "Hydro energy sources": ["ENE"], "Other renewable energy sources": ["ENE"],
    "System innovation": ["ENE.EFF"], "Building design": ["ENE.EFF"],
    "Interior appliance design": ["ENE.EFF"],
    "Decreased energy consumption design or practices": ["ENE.EFF"],
    "Manufacturing innovation": ["CPP"], "Energy use innovation": ["ENE.EFF", "CPP"],
    "Use of innovative materials": ["CPP"], "Improved durability": ["CPP"],
    "Energy management": ["ENE.EFF"], "Emissions and pollution reduction": ["CPP"],
    "Resource saving": ["SOL.REM"], "Cleaner product": ["GSC.ECO"], "CCS": ["CPP"],
}
# Capacity unit and a typical range for each sector root.
SECTOR_CAPACITY = {
    "WAT": ("m3/day", 200, 50000), "WST": ("t/day", 5, 1500), "AIR": ("Nm3/h", 5000, 500000),
    "ENE": ("kW", 50, 50000), "CPP": ("t/year", 1000, 500000), "MON": ("stations", 1, 200),
    "SOL": ("ha", 1, 500), "BIO": ("ha", 5, 5000), "CAD": ("ha", 1, 1000),
    "GSC": ("units", 100, 100000),
}
CERTIFICATIONS = ["ISO 14001", "ISO 9001", "China Environmental Labelling", "CE",
                  "ISO 45001", "China Energy Conservation Certification"]

# Hand-written offers typical of the water, waste and air industries at Yixing and Wuzhou,
# and of the energy and ecology firms elsewhere: one listing per technology, so that every
# demo need finds a few genuinely relevant offers in its own sector.
# (title, sectors, summary, keywords); membrane bioreactors are the showcase's.
SPECIALIST_SOLUTIONS = [
    ("Decentralised A2O wastewater stations for villages", ["WAT.MUN"],
     "Prefabricated anaerobic-anoxic-oxic stations for 50-2,000 people, with remote "
     "monitoring and nutrient removal: decentralised sewage treatment for peri-urban "
     "villages.", ["A2O", "decentralised", "rural sanitation", "sewage treatment"]),
    ("Constructed wetlands for small-town sewage", ["WAT.MUN"],
     "Vertical- and horizontal-flow reed beds treat the sewage of 200-5,000 people with "
     "little energy and simple upkeep.", ["constructed wetland", "reed bed", "sewage"]),
    ("Sequencing batch reactor (SBR) plants", ["WAT.MUN", "WAT.IND"],
     "Fill-and-draw activated sludge in a single tank, with automatic cycles that remove "
     "nitrogen and phosphorus: a compact upgrade for municipal sewage treatment plants "
     "facing stricter limits.", ["SBR", "activated sludge", "nutrient removal", "plant upgrade"]),
    ("Septage collection and faecal sludge treatment", ["WAT.SLU", "WAT.MUN"],
     "Vacuum trucks, screening and solar drying beds for septic-tank sludge in towns "
     "without sewers.", ["septage", "faecal sludge", "septic tank"]),
    ("Ultrafiltration and UV for treated-effluent reuse", ["WAT.REU"],
     "Tertiary ultrafiltration and UV disinfection turn secondary effluent into water for "
     "irrigation, cooling towers and toilet flushing.",
     ["water reuse", "reclaimed water", "ultrafiltration", "UV disinfection"]),
    ("Greywater recycling for hotels and buildings", ["WAT.REU", "WAT.MUN"],
     "Compact treatment of shower and laundry water for toilet flushing and garden "
     "irrigation in hotels, schools and offices.", ["greywater", "hotels", "water recycling"]),
    ("Zero liquid discharge for industrial effluent", ["WAT.IND", "WAT.REU"],
     "Reverse-osmosis concentrate goes to evaporators and crystallisers, so all the water is "
     "recovered and only dry salt leaves the plant.", ["ZLD", "evaporator", "crystalliser"]),
    ("Textile dyeing wastewater treatment", ["WAT.IND", "CPP"],
     "Coagulation, hydrolysis-acidification and ozone polishing remove colour and COD from "
     "dye-house effluent.", ["textile", "dyeing", "COD", "ozone"]),
    ("Electroplating wastewater heavy-metal removal", ["WAT.IND", "CPP"],
     "Chemical precipitation, ion exchange and membrane recovery take chromium, nickel and "
     "copper out of plating rinse water.", ["electroplating", "heavy metals", "ion exchange"]),
    ("Food-processing wastewater treatment with UASB reactors", ["WAT.IND", "ENE.BIO"],
     "Upflow anaerobic sludge blanket reactors treat high-strength effluent from seafood, "
     "starch and drinks plants and yield biogas.", ["UASB", "food processing", "anaerobic"]),
    ("Palm oil mill effluent (POME) biogas capture", ["WAT.IND", "ENE.BIO"],
     "Covered anaerobic lagoons and CSTR digesters turn POME into biogas for power and cut "
     "methane emissions.", ["POME", "palm oil", "biogas", "methane"]),
    ("Sludge thermal drying and carbonisation", ["WAT.SLU"],
     "Low-temperature belt drying followed by pyrolysis turns sewage sludge into a stable "
     "biochar, cutting its volume by 90%; the dried sludge can also fuel cement kilns or "
     "improve soil.", ["sewage sludge", "sludge drying", "pyrolysis", "biochar"]),
    ("Sewage sludge digestion with thermal hydrolysis", ["WAT.SLU", "ENE.BIO"],
     "Thermal hydrolysis ahead of digestion raises the biogas yield of sewage sludge and "
     "leaves a pathogen-free cake for farmland.", ["sludge digestion", "thermal hydrolysis"]),
    ("Landfill leachate treatment with DTRO", ["WST.LFL", "WAT.IND"],
     "Disc-tube reverse osmosis treats old and young leachate to discharge standard in "
     "containerised units.", ["leachate", "DTRO", "reverse osmosis", "landfill"]),
    ("Smart water meters and leak detection", ["WAT.DRK", "MON"],
     "NB-IoT meters, pressure loggers and acoustic sensors locate leaks and cut non-revenue "
     "water.", ["non-revenue water", "NRW", "smart meter", "leak detection"]),
    ("Pressure management and district metered areas", ["WAT.DRK"],
     "Pressure-reducing valves and district meter zones cut burst pipes and background "
     "leakage in ageing networks.", ["pressure management", "DMA", "leakage"]),
    ("Compact drinking water treatment plants", ["WAT.DRK"],
     "Containerised coagulation, filtration and chlorination give 500-10,000 m3/day of safe "
     "drinking water from rivers and lakes.", ["drinking water", "filtration", "chlorination"]),
    ("Seawater reverse osmosis desalination", ["WAT.REU"],
     "Energy-recovery SWRO skids for islands and coastal industry, 500-20,000 m3/day.",
     ["desalination", "SWRO", "reverse osmosis"]),
    ("Sponge-city stormwater systems", ["WAT.STM", "CAD"],
     "Permeable paving, bioretention and storage tanks that hold back storm peaks and "
     "reduce urban flooding.", ["sponge city", "stormwater", "flooding", "bioretention"]),
    ("Urban flood early warning systems", ["WAT.STM", "MON", "CAD"],
     "Rain gauges, water-level sensors and a forecasting model warn districts hours before "
     "a flood.", ["flood warning", "early warning", "water level"]),
    ("Green roofs and rain gardens", ["WAT.STM", "CAD"],
     "Planted roofs and rain gardens store rainwater, cool buildings and slow the runoff of "
     "dense districts.", ["green roof", "rain garden", "nature-based solutions"]),
    ("Flue-gas desulphurisation (limestone-gypsum)", ["AIR.IND"],
     "Wet limestone scrubbing removes over 98% of SO2 from boilers and kilns and yields "
     "saleable gypsum.", ["FGD", "SO2", "scrubber", "flue gas"]),
    ("Bag filters and electrostatic precipitators", ["AIR.IND"],
     "Dust control for cement, steel and biomass boilers down to 10 mg/Nm3.",
     ["dust", "baghouse", "ESP", "particulate"]),
    ("SCR denitrification for boilers and kilns", ["AIR.IND"],
     "Selective catalytic reduction with ammonia cuts the NOx of power, cement and glass "
     "plants by up to 90%.", ["SCR", "NOx", "denitrification"]),
    ("VOC control by regenerative thermal oxidation", ["AIR.IND", "CPP"],
     "RTO units destroy solvent emissions from printing, coating and chemical plants with "
     "95% heat recovery.", ["VOC", "RTO", "solvent", "oxidiser"]),
    ("Odour control by biofiltration", ["AIR.IND"],
     "Biofilters and biotrickling filters remove hydrogen sulphide and ammonia from sewage "
     "works, composting halls and rendering plants.", ["odour control", "biofilter", "H2S"]),
    ("Air quality monitoring micro-stations", ["AIR.MON", "MON"],
     "Low-cost PM2.5, PM10, NO2 and O3 sensors calibrated against reference stations, with an "
     "open data dashboard.", ["PM2.5", "air quality", "sensor", "monitoring"]),
    ("Continuous emission monitoring systems (CEMS)", ["AIR.MON", "MON"],
     "Stack analysers for SO2, NOx, dust and flow with data links to the regulator.",
     ["CEMS", "stack monitoring", "NOx"]),
    ("Haze and open-burning hotspot monitoring", ["AIR.MON", "MON"],
     "Satellite hotspot detection and ground sensors track the crop and forest fires behind "
     "seasonal haze.", ["haze", "open burning", "hotspot", "satellite"]),
    ("Water quality buoys and online analysers", ["MON", "WAT.DRK"],
     "Solar-powered buoys measure turbidity, DO, pH, ammonia and algae in rivers and "
     "reservoirs in real time.", ["water quality", "buoy", "online monitoring"]),
    ("Diesel particulate filters for buses and trucks", ["AIR.VEH"],
     "Retrofit filters and SCR kits cut the soot and NOx of diesel fleets already on the "
     "road.", ["DPF", "diesel retrofit", "vehicle emissions"]),
    ("Battery-electric buses with depot charging", ["ENE.TRN", "AIR.VEH"],
     "Electric city buses, depot chargers and fleet software, with driver training and "
     "battery warranties.", ["electric bus", "charging", "public transport"]),
    ("Electric motorcycles with battery swapping", ["ENE.TRN", "AIR.VEH"],
     "Electric two- and three-wheelers and a network of battery-swap cabinets for riders "
     "and delivery fleets.", ["electric motorcycle", "battery swapping", "two-wheeler"]),
    ("E-waste dismantling and precious metal recovery", ["WST.REC", "WST.HAZ"],
     "Manual and mechanical dismantling lines recover copper, gold and palladium from circuit "
     "boards under controlled conditions.", ["e-waste", "WEEE", "precious metals"]),
    ("PET bottle-to-bottle recycling lines", ["WST.REC", "GSC.ECO"],
     "Washing, flaking and solid-state polymerisation produce food-grade rPET.",
     ["PET", "plastics recycling", "rPET"]),
    ("Plastic film pyrolysis to fuel oil", ["WST.REC"],
     "Continuous pyrolysis turns plastic film and bags that cannot be recycled mechanically "
     "into fuel oil and carbon black.", ["plastic pyrolysis", "plastic waste", "fuel oil"]),
    ("Scrap metal sorting and baling", ["WST.REC"],
     "Eddy-current and sensor-based sorting separate ferrous and non-ferrous scrap.",
     ["scrap metal", "sorting", "non-ferrous"]),
    ("Construction and demolition waste recycling", ["WST.REC"],
     "Mobile crushers and screens turn concrete and brick rubble into recycled aggregate.",
     ["construction waste", "recycled aggregate", "crushing"]),
    ("Used lead-acid battery recycling", ["WST.REC", "WST.HAZ"],
     "Closed breaking and smelting lines recover lead and plastics without acid spills.",
     ["lead-acid battery", "battery recycling", "lead"]),
    ("Medical waste microwave disinfection", ["WST.HAZ"],
     "On-site microwave units disinfect infectious hospital waste without incineration.",
     ["medical waste", "healthcare waste", "disinfection"]),
    ("Hazardous waste stabilisation and secure landfill", ["WST.HAZ", "WST.LFL"],
     "Cement-based stabilisation of fly ash and toxic sludge, with lined cells for secure "
     "disposal.", ["hazardous waste", "stabilisation", "fly ash"]),
    ("Municipal solid waste incineration with energy recovery", ["WST.WTE"],
     "Grate furnaces of 200-1,000 t/day with SNCR, semi-dry scrubbing and activated carbon "
     "meet EU 2010/75 limits.", ["waste-to-energy", "incineration", "MSW"]),
    ("Refuse-derived fuel for cement kilns", ["WST.WTE", "CPP"],
     "Shredding, drying and screening turn residual waste into a fuel that replaces coal in "
     "cement kilns.", ["RDF", "co-processing", "cement kiln"]),
    ("Food waste anaerobic digestion", ["WST.BIO", "ENE.BIO"],
     "Wet digestion of market and canteen waste with biogas upgrading to biomethane.",
     ["food waste", "anaerobic digestion", "biogas"]),
    ("Livestock manure biogas plants", ["WST.BIO", "ENE.BIO"],
     "Covered lagoons and stirred digesters for pig and dairy farms, with gas engines for "
     "heat and power and digestate as fertiliser.", ["manure", "livestock", "biogas", "pig farm"]),
    ("In-vessel composting of market and garden waste", ["WST.BIO"],
     "Enclosed, aerated tunnels compost organic waste in three weeks, with odour control.",
     ["composting", "organic waste", "in-vessel"]),
    ("Black soldier fly processing of food waste", ["WST.BIO"],
     "Fly larvae turn food waste into protein meal for animal feed and frass fertiliser.",
     ["black soldier fly", "insect protein", "food waste"]),
    ("Intelligent waste collection and sorting stations", ["WST.COL"],
     "Smart bins with fill sensors and route optimisation for collection fleets.",
     ["waste collection", "sorting", "smart bins"]),
    ("Material recovery facilities for mixed waste", ["WST.COL", "WST.REC"],
     "Trommels, ballistic separators and optical sorters recover paper, plastics and metals "
     "from mixed municipal waste.", ["MRF", "material recovery", "optical sorting"]),
    ("Landfill gas collection and power generation", ["WST.LFL", "ENE.BIO"],
     "Gas wells, blowers and engines capture the methane of landfills and turn it into "
     "electricity.", ["landfill gas", "methane", "gas engine"]),
    ("Dumpsite closure and landfill mining", ["WST.LFL", "SOL.REM"],
     "Capping, gas venting and excavation with screening recover land and recyclables from "
     "old dumpsites.", ["dumpsite closure", "landfill mining", "capping"]),
    ("Contaminated site remediation by thermal desorption", ["SOL.REM"],
     "In-situ and ex-situ thermal desorption for soils polluted with hydrocarbons and "
     "pesticides.", ["soil remediation", "thermal desorption", "brownfield"]),
    ("Phytoremediation of heavy-metal soils", ["SOL.REM"],
     "Hyperaccumulator plants and soil amendments lower cadmium, lead and arsenic in farmland "
     "and brownfields.", ["phytoremediation", "heavy metals", "soil"]),
    ("Mangrove restoration and coastal protection", ["BIO.CST", "CAD"],
     "Nursery, planting and monitoring services that restore mangrove belts against storm "
     "surge.", ["mangrove", "coastal protection", "blue carbon"]),
    ("Living shorelines against coastal erosion", ["BIO.CST", "CAD"],
     "Oyster reefs, bamboo breakwaters and dune planting slow erosion and let sediment "
     "rebuild the shore.", ["coastal erosion", "living shoreline", "breakwater"]),
    ("Coral reef and seagrass restoration", ["BIO.CST", "BIO.PRO"],
     "Coral gardening, reef structures and seagrass transplanting for marine parks and "
     "tourist coasts.", ["coral reef", "seagrass", "marine restoration"]),
    ("Floating solar on reservoirs", ["ENE.SOL"],
     "Floating PV arrays on reservoirs and treatment ponds produce power and reduce "
     "evaporation.", ["floating solar", "floating PV", "reservoir"]),
    ("Rooftop solar with batteries for public buildings", ["ENE.SOL", "ENE.STO"],
     "Design, supply and operation of rooftop PV with batteries on schools, clinics and "
     "offices, with third-party financing.", ["rooftop solar", "battery", "public buildings"]),
    ("Rice husk and palm residue biomass boilers", ["ENE.BIO"],
     "Grate and fluidised-bed boilers burn rice husk, palm shells and wood chips for process "
     "steam.", ["biomass boiler", "rice husk", "palm kernel shell"]),
    ("High-efficiency chillers and building energy management", ["ENE.EFF"],
     "Magnetic-bearing chillers and a building management system cut air-conditioning "
     "energy by a third.", ["chiller", "BMS", "air conditioning"]),
    ("LED street lighting with smart controls", ["ENE.EFF"],
     "LED luminaires with dimming and remote monitoring replace sodium street lamps.",
     ["LED", "street lighting", "smart lighting"]),
    ("Cleaner production audits for factories", ["CPP", "ENE.EFF"],
     "Water, energy and material audits that find low-cost savings in textile, food and "
     "metal plants.", ["cleaner production", "resource efficiency", "audit"]),
    ("Eco-labelled office furniture and paper", ["GSC.ECO"],
     "Furniture of certified timber and recycled paper products that carry the China "
     "Environmental Labelling mark.", ["eco-label", "green procurement", "recycled paper"]),
    ("Product carbon footprints and eco-label certification", ["GSC.ECO", "MON"],
     "Life-cycle assessment and certification support for suppliers that seek eco-labels "
     "and green public procurement.", ["carbon footprint", "LCA", "eco-labelling"]),
]

# (title, sectors, capacity, unit, description); {city} is filled in.  Each need says in its
# own words what it asks for: no sentence is shared by every need.
NEED_TEMPLATES = [
    ("Decentralised wastewater treatment for peri-urban villages near {city}", ["WAT.MUN"],
     1500, "m3/day", "About 12 villages discharge untreated sewage into irrigation canals. We "
     "seek compact, low-energy treatment units that local staff can operate."),
    ("Upgrade of the {city} municipal sewage treatment plant", ["WAT.MUN", "WAT.REU"], 20000,
     "m3/day", "The plant must meet stricter nitrogen and phosphorus limits and supply "
     "reclaimed water to a nearby industrial estate. It has to stay in service during the "
     "works."),
    ("Reducing non-revenue water in {city}", ["WAT.DRK", "MON"], 60000, "m3/day",
     "Non-revenue water is above 30%. We want district metering, smart meters and leak "
     "detection for the distribution network, and training for our field crews."),
    ("Treatment of textile dyeing effluent in {city}", ["WAT.IND"], 3000, "m3/day",
     "Twelve dye houses share one outfall. Colour and COD exceed the national standard, and "
     "the treatment plant must fit on a 1.5 ha plot."),
    ("Sewage sludge drying and reuse for {city}", ["WAT.SLU"], 80, "t/day",
     "Dewatered sludge is trucked to landfill. We seek drying and a beneficial reuse, such as "
     "fuel for the cement plant or a soil improver."),
    ("Flood control and stormwater storage for {city}", ["WAT.STM", "CAD"], 200, "ha",
     "Monsoon rain floods the old town several times a year; we want nature-based and grey "
     "stormwater measures that also green the streets."),
    ("Waste-to-energy plant for {city}", ["WST.WTE"], 800, "t/day",
     "The landfill is nearly full. We invite proposals for incineration with energy recovery "
     "meeting international emission limits, under a build-operate-transfer contract."),
    ("Leachate treatment at the {city} landfill", ["WST.LFL"], 300, "m3/day",
     "Leachate overflows in the wet season and pollutes a river; we need robust treatment "
     "that copes with a doubling of the flow after storms."),
    ("Food market waste composting or digestion in {city}", ["WST.BIO"], 60, "t/day",
     "Wet markets produce organic waste that could become compost or biogas. The site is "
     "close to homes, so odour control matters."),
    ("Plastic waste recycling facility for {city}", ["WST.REC"], 100, "t/day",
     "Collected plastics are mostly exported or dumped; we want a local recycling line that "
     "sells its pellets to manufacturers in the region."),
    ("Healthcare waste treatment for hospitals in {city}", ["WST.HAZ"], 5, "t/day",
     "Provincial hospitals need non-incineration treatment for infectious waste, with "
     "tracking from the ward to the treatment unit."),
    ("Air quality monitoring network for {city}", ["AIR.MON", "MON"], 40, "stations",
     "We need city-wide PM2.5 and NO2 monitoring with public data and alerts for schools on "
     "bad days."),
    ("Dust and SO2 control for industrial boilers in {city}", ["AIR.IND"], 150000, "Nm3/h",
     "Coal and biomass boilers in the industrial zone exceed emission limits; the tenants "
     "want a shared retrofit programme."),
    ("Rooftop solar for public buildings in {city}", ["ENE.SOL"], 5000, "kW",
     "Schools, clinics and offices with large roofs; we seek design, supply and financing."),
    ("Energy efficiency retrofit of municipal buildings in {city}", ["ENE.EFF"], 2000, "kW",
     "Air conditioning and lighting dominate the electricity bill of our buildings. We "
     "prefer an energy performance contract paid from the savings."),
    ("Electric buses for {city} public transport", ["ENE.TRN", "AIR.VEH"], 60, "units",
     "We plan to replace diesel buses with electric ones, with depot charging and a "
     "maintenance partner for the first years."),
    ("Biogas from livestock manure near {city}", ["ENE.BIO", "WST.BIO"], 50, "t/day",
     "Pig farms pollute streams; manure digestion could supply heat and power. The farms "
     "would share one plant and use the digestate on their fields."),
    ("Mangrove restoration along the {city} coast", ["BIO.CST", "CAD"], 300, "ha",
     "Coastal erosion threatens villages; we want restoration with community participation."),
    ("Remediation of a former industrial site in {city}", ["SOL.REM"], 12, "ha",
     "Soil is contaminated with heavy metals and hydrocarbons; the site will become a park."),
    ("Eco-labelled products for green public procurement in {city}", ["GSC.ECO"], 5000,
     "units", "We seek suppliers of certified low-emission furniture, paper and lighting."),
]
# The main demo buyer's needs are chosen, not drawn: a water utility's own problems plus the
# biogas need that the matching issue was measured on (see DemoWorld.showcase for the rest).
DEMO_BUYER_NEEDS = ["Biogas from livestock manure near {city}",
                    "Reducing non-revenue water in {city}",
                    "Sewage sludge drying and reuse for {city}"]
# Some needs written in the buyers' own languages: the matcher works across languages.
LOCAL_LANGUAGE_NEEDS = [
    ("VN", "Xử lý nước thải sinh hoạt cho khu dân cư ven đô", ["WAT.MUN"], 5000, "m3/day",
     "Khoảng 3.000 hộ dân ven đô xả nước thải sinh hoạt chưa qua xử lý ra kênh. Chúng tôi "
     "cần các trạm xử lý nước thải phân tán cho làng xã, tiết kiệm năng lượng, dễ vận hành."),
    ("TH", "ระบบตรวจวัดคุณภาพอากาศ PM2.5 สำหรับเมือง", ["AIR.MON"], 30, "stations",
     "เทศบาลต้องการเครือข่ายเซนเซอร์ตรวจวัดฝุ่น PM2.5 พร้อมแดชบอร์ดข้อมูลสาธารณะ"),
    ("ID", "Pengolahan sampah organik pasar menjadi kompos dan biogas", ["WST.BIO"], 40,
     "t/day", "Pasar tradisional menghasilkan sampah organik yang dapat diolah menjadi biogas."),
    ("MY", "Sistem pengurusan air larian dan banjir kilat bandar", ["WAT.STM"], 150, "ha",
     "Banjir kilat berlaku setiap musim tengkujuh; kami mencari penyelesaian berasaskan alam."),
    ("SG", "工业园区挥发性有机物（VOCs）治理", ["AIR.IND"], 80000, "Nm3/h",
     "园区内涂装与化工企业的VOCs排放需要高效治理，并希望回收热能。"),
]
# The offer that answers each kind of need, as a person would pick it: the demo makes sure it
# serves the need's country, so every need has at least one genuinely relevant offer (the
# sectors alone would pair a VOC need with a DeNOx plant, or e-buses with LNG trucks).
NEED_ANSWERS = {
    "Decentralised wastewater treatment for peri-urban villages near {city}":
        "Decentralised A2O wastewater stations for villages",
    "Upgrade of the {city} municipal sewage treatment plant":
        "Sequencing batch reactor (SBR) plants",
    "Reducing non-revenue water in {city}": "Smart water meters and leak detection",
    "Treatment of textile dyeing effluent in {city}": "Textile dyeing wastewater treatment",
    "Sewage sludge drying and reuse for {city}": "Sludge thermal drying and carbonisation",
    "Flood control and stormwater storage for {city}": "Sponge-city stormwater systems",
    "Waste-to-energy plant for {city}":
        "Municipal solid waste incineration with energy recovery",
    "Leachate treatment at the {city} landfill": "Landfill leachate treatment with DTRO",
    "Food market waste composting or digestion in {city}":
        "In-vessel composting of market and garden waste",
    "Plastic waste recycling facility for {city}": "PET bottle-to-bottle recycling lines",
    "Healthcare waste treatment for hospitals in {city}":
        "Medical waste microwave disinfection",
    "Air quality monitoring network for {city}": "Air quality monitoring micro-stations",
    "Dust and SO2 control for industrial boilers in {city}":
        "Bag filters and electrostatic precipitators",
    "Rooftop solar for public buildings in {city}":
        "Rooftop solar with batteries for public buildings",
    "Energy efficiency retrofit of municipal buildings in {city}":
        "High-efficiency chillers and building energy management",
    "Electric buses for {city} public transport": "Battery-electric buses with depot charging",
    "Biogas from livestock manure near {city}": "Livestock manure biogas plants",
    "Mangrove restoration along the {city} coast": "Mangrove restoration and coastal protection",
    "Remediation of a former industrial site in {city}":
        "Contaminated site remediation by thermal desorption",
    "Eco-labelled products for green public procurement in {city}":
        "Eco-labelled office furniture and paper",
    "Xử lý nước thải sinh hoạt cho khu dân cư ven đô":
        "Decentralised A2O wastewater stations for villages",
    "ระบบตรวจวัดคุณภาพอากาศ PM2.5 สำหรับเมือง": "Air quality monitoring micro-stations",
    "Pengolahan sampah organik pasar menjadi kompos dan biogas":
        "In-vessel composting of market and garden waste",
    "Sistem pengurusan air larian dan banjir kilat bandar": "Sponge-city stormwater systems",
    "工业园区挥发性有机物（VOCs）治理": "VOC control by regenerative thermal oxidation",
}
NEEDS_PER_BUYER = 3
CURRENCY = {"VN": "VND", "TH": "THB", "ID": "IDR", "MY": "MYR", "PH": "PHP", "KH": "USD",
            "LA": "USD", "MM": "USD", "BN": "BND", "SG": "SGD"}


@dataclass
class CatalogueRow:
    group: str
    technology: str
    description: str
    key_terms: list[str]
    source: str


def _catalogue() -> list[CatalogueRow]:
    text = resources.files("marketplace").joinpath("data/demo/technology-catalogue.csv")
    rows = []
    for raw in csv.DictReader(io.StringIO(text.read_text(encoding="utf-8"))):
        technology = raw["technology"].strip()
        # Rows without a name, and nuclear power, are not offers for this marketplace.
        if not technology or raw["technology_group"].startswith("Nuclear"):
            continue
        rows.append(CatalogueRow(raw["technology_group"], technology,
                                 _description(raw["description"]),
                                 _key_terms(technology, raw["key_terms"]),
                                 raw["source"].strip()))
    return rows


# The catalogue writes its key terms as a quoted list, sometimes with prose in it:
# '“methane capture”, “remote leak monitoring”; NOT CCS, “carbon capture”' or
# '..., and “power-to-syngas”'.  A keyword is the quoted term alone.
_QUOTES = str.maketrans("", "", "“”\"'‘’\u00a0")
_EXCLUSION = re.compile(r";\s*NOT\b.*", re.S)
# Terms the entry's own description rules out, and misspellings, by technology.
_EXCLUDED_TERMS = {"low GHG chemicals": {"carbon capture and storage",
                                         "carbon capture and sequestration"}}
_TERM_FIXES = {"low GHG envelop": "low GHG envelope",
               "low green house gas envelop": "low green house gas envelope",
               "low green house fertiliser": "low green house gas fertiliser",
               "fertiliser with amonia reduction": "fertiliser with ammonia reduction",
               "straw solage": "straw silage"}


def _key_terms(technology: str, raw: str) -> list[str]:
    terms = []
    for part in _EXCLUSION.sub("", raw).split(","):
        term = " ".join(part.translate(_QUOTES).split()).removeprefix("and ")
        term = _TERM_FIXES.get(term, term)
        if term and term not in _EXCLUDED_TERMS.get(technology, ()) and term not in terms:
            terms.append(term)
    return terms


# 'Also “solar photovoltaic”; technology of ...': the other names come first in the
# catalogue, which makes a poor first line for a listing; they move to the end.
_ALSO_KNOWN = re.compile(r"^(?:Here also|Also),?\s*([^;.]+)[;.]\s*(.+)$", re.S)


def _description(raw: str) -> str:
    text = raw.strip()
    also = _ALSO_KNOWN.match(text)
    if not also:
        return text
    names, rest = also.group(1).strip(), also.group(2).strip()
    rest = rest[0].upper() + rest[1:]
    return f"{rest}{'' if rest.endswith('.') else '.'} Also called {names}."


def _sectors_for(row: CatalogueRow) -> list[str]:
    name = row.technology.lower()
    for word, codes in TECHNOLOGY_SECTORS.items():
        if word in name:
            return codes
    return GROUP_SECTORS.get(row.group, ["CPP"])


class DemoWorld:
    """Builds the demo world into the current session."""

    def __init__(self) -> None:
        self.rng = random.Random(2026)
        self.now = utcnow()
        self.password_hash = ""
        self.staff: User | None = None
        self.suppliers: list[Organization] = []
        self.buyers: list[Organization] = []
        self.solutions: list[Solution] = []
        self.needs_made: list[Need] = []
        self.answers: dict[Need, str | None] = {}  # need -> the title of the offer answering it

    # -- organisations and people ----------------------------------------------------------

    def user(self, email: str, name: str, role: str, org: Organization | None,
             language: str = "en", digests: str = "daily") -> User:
        user = User(email=f"{email}@{DOMAIN}", name=name, role=role, organization=org,
                    language=language, email_verified_at=self.now,
                    password_hash=self.password_hash, digest_frequency=digests)
        db.session.add(user)
        return user

    def organisations(self) -> None:
        for index, (name, base, city, kind, _) in enumerate(SUPPLIERS):
            self.suppliers.append(self._org(name, kind, "CN", city, base, verified=index % 7 != 6))
        for index, (name, country, city, kind) in enumerate(BUYERS):
            self.buyers.append(self._org(name, kind, country, city, None,
                                         verified=index % 6 != 5))

    def _org(self, name, kind, country, city, base, *, verified) -> Organization:
        slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
        org = Organization(
            name=name + LABEL, kind=kind, country=country, city=city, base=base, is_demo=True,
            website=f"https://{slug}.example", description=(
                f"{name} is an invented organisation in the demo world of the EST "
                f"Marketplace, based in {city}."),
            verified_at=self.now - timedelta(days=self.rng.randint(30, 400)) if verified else None,
        )
        db.session.add(org)
        return org

    def people(self) -> list[tuple[str, str]]:
        self.staff = self.user("staff", "Chen Jing (CAEC staff)", "staff", None)
        self.user("admin", "Admin", "admin", None)
        self.user("supplier", "Wang Lei", "supplier", self.suppliers[0])
        # Hears about new matches at once, so publishing a solution shows a digest right away.
        self.buyer_user = self.user("buyer", "Nguyen Thi Lan", "buyer", self.buyers[0],
                                    digests="immediate")
        self.user("supplier-zh", "Zhao Min", "supplier", self.suppliers[1], language="zh")
        for index, org in enumerate(self.suppliers[2:] + self.buyers[1:], start=1):
            role = "supplier" if org.country == "CN" else "buyer"
            self.user(f"{role}{index:02d}", f"Demo {role} {index}", role, org)
        for org in self.suppliers + self.buyers:
            if org.verified_at:
                org.verified_by = self.staff
        return [("staff", f"staff@{DOMAIN}"), ("admin", f"admin@{DOMAIN}"),
                ("supplier", f"supplier@{DOMAIN}"), ("buyer", f"buyer@{DOMAIN}"),
                ("supplier", f"supplier-zh@{DOMAIN} (Chinese interface)")]

    # -- the E-magazine ---------------------------------------------------------------------

    def emagazine(self) -> None:
        """Confirmed demo subscribers (and the demo buyer, from their settings), events at
        the three bases, and one past issue so the public archive is not empty."""
        for name, language, countries, sectors in DEMO_SUBSCRIBERS:
            db.session.add(Subscriber(email=f"{name}@{DOMAIN}", language=language,
                                      countries=countries, sectors=sectors,
                                      status="confirmed", confirmed_at=self.now,
                                      created_at=self.now))
        db.session.add(Subscriber(email=f"buyer@{DOMAIN}", language="en", status="confirmed",
                                  confirmed_at=self.now, created_at=self.now,
                                  user=self.buyer_user))
        today = self.now.date()
        for title, kind, base, days, length, venue in DEMO_EVENTS:
            start = today + timedelta(days=days)
            db.session.add(Event(title=title + LABEL, kind=kind, base=base, starts_on=start,
                                 ends_on=start + timedelta(days=length - 1), location=venue))
        sent_at = self.now - timedelta(days=30)
        intro = ("Welcome to the first issue of the EST Marketplace E-magazine (a demo issue): "
                 "news from the ASEAN-China technology network.")
        db.session.add(Issue(slug="demo-first-issue", status="sent", audience={},
                             started_at=sent_at, sent_at=sent_at, created_at=sent_at,
                             editions=[
            IssueEdition(language="en", title="EST Marketplace E-magazine, issue 1 (Demo)",
                         intro=intro, sections=[IssueSection(
                             heading="From the bases", body=(
                                 "The Yixing, Wuzhou and Shenzhen demonstration bases opened "
                                 "their doors to delegations from ASEAN utilities."))]),
            IssueEdition(language="zh", title="EST 环境技术平台电子期刊 第一期（演示）",
                         intro="欢迎阅读 EST 环境技术平台电子期刊第一期（演示内容）。",
                         sections=[IssueSection(heading="基地动态", body=(
                             "宜兴、梧州和深圳示范基地接待了来自东盟水务企业的代表团。"))]),
        ]))

    # -- listings -------------------------------------------------------------------------

    def _lifecycle(self, listing, status: str | None = None) -> None:
        """Give a listing a believable status and dates, with its moderation history."""
        status = status or self.rng.choices(
            ["published", "pending", "draft", "archived"], weights=[86, 6, 6, 2])[0]
        listing.status = status
        listing.is_demo = True
        created = self.now - timedelta(days=self.rng.randint(5, 150), hours=self.rng.randint(0, 23))
        listing.created_at = listing.updated_at = created
        if status in ("pending", "published", "archived"):
            listing.submitted_at = created + timedelta(hours=2)
        if status in ("published", "archived"):
            listing.published_at = created + timedelta(days=1)
            listing.expires_at = listing.published_at + timedelta(days=365)

    def _history(self, listing) -> None:
        if listing.submitted_at:
            db.session.add(ModerationDecision(listing_kind=listing.kind, listing_id=listing.id,
                                              action="submitted", created_at=listing.submitted_at))
        if listing.published_at:
            db.session.add(ModerationDecision(
                listing_kind=listing.kind, listing_id=listing.id, action="approved",
                actor=self.staff, created_at=listing.published_at))

    def _supplier_for(self, sectors: list[str]) -> Organization:
        roots = {taxonomy().ancestors(code)[-1] for code in sectors}
        fitting = [org for org, spec in zip(self.suppliers, SUPPLIERS, strict=True)
                   if roots & set(spec[4])]
        return self.rng.choice(fitting or self.suppliers)

    def _solution(self, org, title, summary, description, sectors, keywords, *,
                  commercial: bool = False) -> Solution:
        """A solution with invented figures; a ``commercial`` one is live and mature."""
        rng = self.rng
        unit, low, high = SECTOR_CAPACITY[taxonomy().ancestors(sectors[0])[-1]]
        cap_min = round(low * rng.uniform(1, 5), -1 if low >= 10 else 0) or low
        currency = rng.choice(["USD", "CNY"])
        price_min = money.convert(rng.choice([50, 120, 300, 800, 2000]) * 1000, "USD", currency)
        solution = Solution(
            organization=org, title=title, summary=shorten(summary, 300), description=description,
            keywords=keywords[:8],
            trl=rng.choice([8, 9] if commercial else [6, 7, 8, 8, 9, 9]),
            capacity_unit=unit, capacity_min=cap_min,
            capacity_max=round(max(cap_min * 2, high * rng.uniform(0.3, 1.0)),
                               -1 if low >= 10 else 0),
            price_min=round(price_min, -3), price_max=round(price_min * rng.uniform(3, 10), -3),
            currency=currency, languages=["en", "zh", *rng.sample(["vi", "th", "id", "ms"], 1)],
            certifications=rng.sample(CERTIFICATIONS, rng.randint(0, 3)),
        )
        solution.sectors = sectors
        solution.countries_served = rng.sample(ASEAN_COUNTRIES, rng.randint(3, 10))
        for _ in range(rng.randint(0, 3)):
            country_city = rng.choice(BUYERS + [(n, "CN", c, k) for n, _, c, k, _ in SUPPLIERS])
            solution.references.append(ReferenceProject(
                place=country_city[2], year=rng.randint(2012, 2025),
                capacity=f"{int(cap_min * rng.uniform(1, 3)):,} {unit}",
                text=rng.choice(["Turnkey supply and commissioning",
                                 "Design, equipment and two years of operation",
                                 "Retrofit of an existing plant", "Pilot, then full scale"])))
        self._lifecycle(solution, "published" if commercial else None)
        db.session.add(solution)
        self.solutions.append(solution)
        return solution

    # One listing per technology: variants of the same offer ("... for municipalities")
    # read as spam.  The descriptions keep their Markdown, as a supplier's would.

    def catalogue_solutions(self, progress) -> None:
        for row in _catalogue():
            sectors = _sectors_for(row)
            title = row.technology[0].upper() + row.technology[1:]
            org = self._supplier_for(sectors)
            description = (
                f"## The technology\n\n{row.description}\n\n"
                f"## What {org.name.removesuffix(LABEL)} provides\n\n"
                "Feasibility study, design, supply of the main equipment, installation "
                "supervision, commissioning and training of local operators.\n\n"
                f"*Technical description adapted from the CTCN technology catalogue "
                f"(CC BY 4.0): {row.source}*"
            )
            self._solution(org, title, row.description, description, sectors, row.key_terms)
            progress.update()

    def specialist_solutions(self, progress) -> None:
        """The industries' own offers, the answers most demo needs look for: published and
        commercially proven (the catalogue's rows show the other states and TRLs)."""
        for title, sectors, summary, keywords in SPECIALIST_SOLUTIONS:
            org = self._supplier_for(sectors)
            description = (f"## Overview\n\n{summary}\n\n## Scope of supply\n\n"
                           "- Process design and sizing\n- Main equipment and controls\n"
                           "- Commissioning and operator training\n- Remote support")
            self._solution(org, title, summary, description, sectors, keywords,
                           commercial=True)
            progress.update()

    def needs(self, progress) -> None:
        rng = self.rng
        chosen = [t for t in NEED_TEMPLATES if t[0] in DEMO_BUYER_NEEDS]
        for buyer in self.buyers:
            templates = chosen if buyer is self.buyers[0] else rng.sample(NEED_TEMPLATES,
                                                                          NEEDS_PER_BUYER)
            for template in templates:
                self._need(buyer, *template)
                progress.update()
        for country, title, sectors, capacity, unit, description in LOCAL_LANGUAGE_NEEDS:
            buyer = next(b for b in self.buyers if b.country == country)
            self._need(buyer, title, sectors, capacity, unit, description, literal=True)
            progress.update()

    def _need(self, buyer, title, sectors, capacity, unit, description, *, literal=False,
              status=None) -> Need:
        rng = self.rng
        currency = CURRENCY[buyer.country]
        budget_usd = rng.choice([100, 250, 500, 1000, 3000, 8000]) * 1000
        need = Need(
            organization=buyer, title=title if literal else title.format(city=buyer.city),
            description=description,
            country=buyer.country, city=buyer.city,
            capacity=float(round(capacity * rng.uniform(0.7, 1.3))), capacity_unit=unit,
            budget_min=round(money.convert(budget_usd, "USD", currency), -3),
            budget_max=round(money.convert(budget_usd * rng.uniform(1.5, 3), "USD", currency),
                             -3),
            currency=currency, deadline=date.today() + timedelta(days=rng.randint(45, 300)),
            min_trl=rng.choice([6, 7, 7, 8]),
            required_certifications=rng.sample(["ISO 14001", "ISO 9001"], rng.randint(0, 1)),
        )
        need.sectors = sectors
        self._lifecycle(need, status)
        db.session.add(need)
        self.needs_made.append(need)
        self.answers[need] = NEED_ANSWERS.get(title)
        return need

    def serve_every_need(self) -> None:
        """Every published need's answer (NEED_ANSWERS) is published and serves the need's
        country: the countries served are drawn at random, and a need left without a relevant
        offer would make the demo look broken (or answer a biogas need with biofuels)."""
        by_title = {s.title: s for s in self.solutions if s.status == "published"}
        for need in self.needs_made:
            answer = by_title.get(self.answers.get(need) or "")
            if need.status != "published" or answer is None:
                continue
            answer.trl = max(answer.trl, need.min_trl)
            if need.country not in answer.countries_served:
                answer.countries_served = [*answer.countries_served, need.country]

    def showcase(self) -> None:
        """The main demo accounts own listings in every state, and one clear match."""
        supplier_org, buyer_org = self.suppliers[0], self.buyers[0]
        mbr = self._solution(
            supplier_org, "MBR wastewater plant for coastal cities (Demo showcase)",
            "Membrane bioreactor plants of 1,000-30,000 m3/day producing reuse-grade water, "
            "proven in humid tropical climates.",
            "## Overview\n\nSubmerged hollow-fibre membranes with anoxic zones for nitrogen "
            "removal.\n\n## Why it fits coastal cities\n\nSmall footprint, stable effluent "
            "for reuse, and resistance to salty infiltration.",
            ["WAT.MUN", "WAT.REU"], ["MBR", "membrane bioreactor", "sewage", "reuse"])
        mbr.capacity_unit, mbr.capacity_min, mbr.capacity_max = "m3/day", 1000, 30000
        mbr.countries_served = ["VN", "TH", "PH", "ID", "MY"]
        mbr.trl = 9
        self._lifecycle(mbr, "published")
        for status, title, summary, sectors, keywords in SHOWCASE_UNPUBLISHED:
            extra = self._solution(supplier_org, title, summary, "Draft text.", sectors,
                                   keywords)
            self._lifecycle(extra, status)
        self._need(buyer_org, "Wastewater treatment and reuse for the Son Tra peninsula",
                   ["WAT.MUN", "WAT.REU"], 8000, "m3/day",
                   "Hotels and households on the peninsula need sewage treatment with water "
                   "reuse for irrigation.", literal=True, status="published").min_trl = 7
        self._need(buyer_org, "Sludge management study (draft example)", ["WAT.SLU"], 20,
                   "t/day", "Draft text.", literal=True, status="draft")


# The demo supplier's listings that are not public yet: (status, title, summary, sectors,
# keywords).  Two technologies, not one in two states, so that no two titles repeat.
SHOWCASE_UNPUBLISHED = [
    ("draft", "Sludge dewatering skid (draft example)",
     "Screw-press dewatering for small treatment plants.", ["WAT.SLU"],
     ["sludge", "dewatering"]),
    ("pending", "Ozone disinfection units (pending example)",
     "Ozone generators for drinking water and effluent disinfection.", ["WAT.DRK"],
     ["ozone", "disinfection"]),
]
DEMO_EVENTS = [  # (title, kind, base, days from now, length in days, venue)
    ("China-ASEAN Environmental Technology Forum", "forum", "yixing", 21, 2,
     "Yixing Environmental Science and Technology Industrial Park"),
    ("Wastewater treatment operators' training", "training", "wuzhou", 35, 3,
     "Wuzhou demonstration base"),
    ("Green technology exhibition", "exhibition", "shenzhen", 60, 4, "Shenzhen convention centre"),
]
DEMO_SUBSCRIBERS = [  # (name part, language, countries, sectors)
    ("reader-vn", "en", ["VN"], ["WAT"]), ("reader-th", "en", ["TH"], []),
    ("reader-id", "en", ["ID"], ["AIR"]), ("reader-my", "en", ["MY"], []),
    ("reader-ph", "en", ["PH"], ["WST"]), ("reader-zh-1", "zh", [], []),
    ("reader-zh-2", "zh", ["VN", "LA"], ["WAT"]), ("reader-kh", "en", ["KH"], []),
]


def seed() -> list[tuple[str, str]]:
    """Add the demo world to the session (flushed, not committed); return the logins."""
    world = DemoWorld()
    # Argon2 is deliberately slow: hash the shared demo password once.
    world.password_hash = PasswordHasher().hash(DEMO_PASSWORD)
    world.organisations()
    logins = world.people()
    total = len(_catalogue()) + len(SPECIALIST_SOLUTIONS) + NEEDS_PER_BUYER * len(BUYERS) \
        + len(LOCAL_LANGUAGE_NEEDS)
    with tqdm(total=total, desc="Demo listings", unit="listing") as progress:
        world.catalogue_solutions(progress)
        world.specialist_solutions(progress)
        world.needs(progress)
    world.showcase()
    world.serve_every_need()
    world.emagazine()
    db.session.flush()
    for listing in list(db.session.identity_map.values()):
        if isinstance(listing, Solution | Need):
            world._history(listing)
    db.session.flush()
    return logins
