"""The 153 English councils with adult social services responsibilities (N1), for synth.

Upper-tier ONS codes (E06 unitary, E08 metropolitan district, E09 London borough incl. City of
London, E10 county) as current from April 2023, with mid-2020 population estimates (ONS, as carried
in mysociety/uk_local_authority_names_and_codes, uk_local_authorities_current.csv, 2025-07).
Populations only set each council's relative size; totals are rescaled to P2.
"""

from __future__ import annotations

import pandas as pd

_ROWS = """\
E06000001|Hartlepool|93836
E06000002|Middlesbrough|141285
E06000003|Redcar and Cleveland|137228
E06000004|Stockton-on-Tees|197419
E06000005|Darlington|107402
E06000006|Halton|129759
E06000007|Warrington|209397
E06000008|Blackburn with Darwen|150030
E06000009|Blackpool|138381
E06000010|Kingston upon Hull|259126
E06000011|East Riding of Yorkshire|343201
E06000012|North East Lincolnshire|159364
E06000013|North Lincolnshire|172748
E06000014|York|211012
E06000015|Derby|256814
E06000016|Leicester|354036
E06000017|Rutland|40476
E06000018|Nottingham|337098
E06000019|Herefordshire|193615
E06000020|Telford and Wrekin|181322
E06000021|Stoke-on-Trent|256622
E06000022|Bath and North East Somerset|196357
E06000023|City of Bristol|465866
E06000024|North Somerset|215574
E06000025|South Gloucestershire|287816
E06000026|Plymouth|262839
E06000027|Torbay|136218
E06000030|Swindon|222881
E06000031|Peterborough|202626
E06000032|Luton|213528
E06000033|Southend-on-Sea|182773
E06000034|Thurrock|175531
E06000035|Medway|279142
E06000036|Bracknell Forest|124165
E06000037|West Berkshire|158465
E06000038|Reading|160337
E06000039|Slough|149577
E06000040|Windsor and Maidenhead|151273
E06000041|Wokingham|173945
E06000042|Milton Keynes|270203
E06000043|Brighton and Hove|291738
E06000044|Portsmouth|214692
E06000045|Southampton|252872
E06000046|Isle of Wight|142296
E06000047|County Durham|533149
E06000049|Cheshire East|386667
E06000050|Cheshire West and Chester|343823
E06000051|Shropshire|325415
E06000052|Cornwall|573299
E06000053|Isles of Scilly|2226
E06000054|Wiltshire|504070
E06000055|Bedford|174687
E06000056|Central Bedfordshire|294096
E06000057|Northumberland|323820
E06000058|Bournemouth, Christchurch and Poole|396989
E06000059|Dorset Council|379791
E06000060|Buckinghamshire|547060
E06000061|North Northamptonshire|350448
E06000062|West Northamptonshire|406733
E06000063|Cumberland|274396
E06000064|Westmorland and Furness|225385
E06000065|North Yorkshire|620610
E06000066|Somerset|563851
E08000001|Bolton|288248
E08000002|Bury|190708
E08000003|Manchester|555741
E08000004|Oldham|237628
E08000005|Rochdale|223659
E08000006|Salford|262697
E08000007|Stockport|294197
E08000008|Tameside|227117
E08000009|Trafford|237579
E08000010|Wigan|330712
E08000011|Knowsley|152452
E08000012|Liverpool|500474
E08000013|St. Helens|181095
E08000014|Sefton|275899
E08000015|Wirral|324336
E08000016|Barnsley|248071
E08000017|Doncaster|312785
E08000018|Rotherham|264984
E08000019|Sheffield|589214
E08000021|Newcastle upon Tyne|306824
E08000022|North Tyneside|208871
E08000023|South Tyneside|151133
E08000024|Sunderland|277846
E08000025|Birmingham|1140525
E08000026|Coventry|379387
E08000027|Dudley|322363
E08000028|Sandwell|329042
E08000029|Solihull|217487
E08000030|Walsall|286716
E08000031|Wolverhampton|264407
E08000032|Bradford|542128
E08000033|Calderdale|211439
E08000034|Kirklees|441290
E08000035|Leeds|798786
E08000036|Wakefield|351592
E08000037|Gateshead|201950
E09000001|City of London|10938
E09000002|Barking and Dagenham|214107
E09000003|Barnet|399007
E09000004|Bexley|249301
E09000005|Brent|327753
E09000006|Bromley|332752
E09000007|Camden|279516
E09000008|Croydon|388563
E09000009|Ealing|340341
E09000010|Enfield|333587
E09000011|Greenwich|289034
E09000012|Hackney|280941
E09000013|Hammersmith and Fulham|183544
E09000014|Haringey|266357
E09000015|Harrow|252338
E09000016|Havering|260651
E09000017|Hillingdon|309014
E09000018|Hounslow|271767
E09000019|Islington|248115
E09000020|Kensington and Chelsea|156864
E09000021|Kingston upon Thames|179142
E09000022|Lambeth|321813
E09000023|Lewisham|305309
E09000024|Merton|206453
E09000025|Newham|355266
E09000026|Redbridge|305658
E09000027|Richmond upon Thames|198141
E09000028|Southwark|320017
E09000029|Sutton|207707
E09000030|Tower Hamlets|331969
E09000031|Waltham Forest|276940
E09000032|Wandsworth|329735
E09000033|Westminster|269848
E10000003|Cambridgeshire|657204
E10000007|Derbyshire|807183
E10000008|Devon|810716
E10000011|East Sussex|558852
E10000012|Essex|1497759
E10000013|Gloucestershire|640650
E10000014|Hampshire|1389206
E10000015|Hertfordshire|1195672
E10000016|Kent|1589057
E10000017|Lancashire|1227076
E10000018|Leicestershire|713085
E10000019|Lincolnshire|766333
E10000020|Norfolk|914039
E10000024|Nottinghamshire|833377
E10000025|Oxfordshire|696880
E10000028|Staffordshire|883172
E10000029|Suffolk|761246
E10000030|Surrey|1199870
E10000031|Warwickshire|583786
E10000032|West Sussex|867635
E10000034|Worcestershire|598070
"""


def councils() -> pd.DataFrame:
    """One row per council: `la_code`, `name`, `population_2020`, sorted by code."""
    rows = [line.split("|") for line in _ROWS.splitlines()]
    frame = pd.DataFrame(rows, columns=["la_code", "name", "population_2020"])
    return frame.astype({"population_2020": "int64"})


def place_name(la_code: str | None) -> str:
    """How a report names its place: the council's name ("Leicester"), "all councils in the data"
    for `all` (or None), or the code itself when the code is not an English council we know."""
    if la_code in (None, "all"):
        return "all councils in the data"
    names = councils().set_index("la_code")["name"]
    return str(names.get(la_code, la_code))
