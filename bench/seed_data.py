"""The vocabulary of the generated shop (bench/seed.py): names, places, a catalogue, carriers.

Lists long enough that a search behaves as on a real shop: a few hundred last names (so a name
fragment matches a realistic share of a million orders, not a twentieth of them), a catalogue
of 3,000 SKUs in 30 product families whose sales follow a long tail.
"""

from __future__ import annotations

import random

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy Matthew
Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy Stephanie Ronald
Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia Jacob Amy Gary Kathleen Nicholas
Angela Eric Shirley Jonathan Brenda Stephen Emma Larry Anna Justin Pamela Scott Nicole Brandon
Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick Carolyn Frank
Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose
Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle
Joan Noah Virginia Ethan Judith Jeremy Evelyn Walter Hannah Christian Andrea Keith Megan Roger
Cheryl Terry Jacqueline Austin Madison Sean Teresa Gerald Abigail Carl Sophia Harold Martha
Dylan Sara Arthur Gloria Lawrence Janice Jordan Kathryn Jesse Ann Bryan Isabella Billy Judy
Bruce Charlotte Gabriel Julia Joe Grace Logan Amber Alan Alice Juan Jean Albert Denise Willie
Frances Elijah Danielle Wayne Marilyn Randy Natalie Vincent Beverly Mason Diana Roy Brittany
Ralph Theresa Bobby Kayla Russell Alexis Bradley Doris Philip Lori Eugene Tiffany Priya Wei
Mohammed Fatima Aisha Hiroshi Yuki Carlos Lucia Mateo Sofia Diego Valentina Ananya Arjun""".split()

LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez
Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen
Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington
Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter
Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black
Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson
Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce
Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson
Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena
Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada
Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison
Franklin Carlson Austin Dominguez Carr Lawson Jacobs Obrien Lynch Singh Vega Bishop Montgomery
Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le
McCoy Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks
Padilla Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez
Newman Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila
Wade Molina Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd
Craig Ayala Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton
Schwartz Norris Jennings Watts Duran Walters Cohen McDaniel Moran Parks Steele Vaughn Becker
Holt Deleon Barker Terry Hale Leon Benson Haynes Horton Miles Lyons Pham Graves Bush
Thornton Wolfe Warner Cabrera McKinney Mann Zimmerman Dawson Lara Fletcher Page McCarthy Love
Robles Cervantes Solis Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon Velasquez
Hardy Higgins Aguirre Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey
Francis Griffith Paul Blair Oconnor Cardenas Pacheco Cross Calderon Quinn Moss Swanson Chan
Rivas Khan Rodgers Serrano Fitzgerald Rosales Stevenson Christensen Manning Gill Curry McLaughlin
Harmon McGee Gross Doyle Garner Newton Burgess Reese Walton Blake Trujillo Adkins Brady Goodman
Roman Webster Goodwin Fischer Huang Potter Delacruz Montoya Todd Wu Hines Mullins Castaneda
Malone Cannon Tate Mack Sherman Hubbard Hodges Zhang Guerra Wolf Valencia Saunders Franco Rowe
Gallagher Farmer Hammond Hampton Townsend Ingram Wise Gallegos Clarke Barton Schroeder Maxwell
Waters Logan Camacho Strickland Norman Person Colon Parsons Frank Harrington Glover Osborne
Buchanan Casey Floyd Patton Ibarra Ball Tyler Suarez Bowers Orozco Salas Cobb Gibbs Andrade
Bauer Conner Moody Escobar McGuire Lloyd Mueller Hartman French Kramer McBride Pope Lindsey
Velazquez Norton McCormick Sparks Flynn Yates Hogan Marsh Macias Villanueva Zamora Pratt
Stokes Owen Ballard Lang Brock Villarreal Charles Drake Barrera Cain Patrick Pineda Burnett
Mercado Santana Shepherd Bautista Ali Shaffer Lamb Trevino McKenzie Hess Olsen Cochran
Morton Nash Wilkins Petersen Briggs Shah Roth Nicholson Holloway Lozano Rangel Flowers Hoover
Short Arias Mora Valenzuela Bryan Meyers Weiss Underwood Bass Greer Summers Houston Carson
Morrow Clayton Whitaker Decker Yoder Collier Zuniga Carey Wilcox Melendez Poole Roberson Larsen
Conley Davenport Copeland Massey Lam Huff Rocha Cameron Jefferson Hood Monroe Anthony Pittman
Huynh Randall Singleton Kirk Combs Mathis Christian Skinner Bradford Richard Galvan Wall Boone
Kirby Wilkinson Bridges Bruce Atkinson Velez Meza Roy Vincent York Hodge Villa Abbott Allison
Tapia Gates Chase Sosa Sweeney Farrell Wyatt Dalton Horn Barron Phelps Yu Dickerson Heath
Foley Atkins Mathews Bonilla Acevedo Benitez Zavala Hensley Glenn Cisneros Harrell Shields
Rubio Huffman Choi Boyer Garrison Arroyo Bond Kane Hancock Callahan Dillon Cline Wiggins
Grimes Arellano Melton Oneill Savage Ho Beltran Pitts Parrish Ponce Rich Booth Koch Golden
Ware Brennan McDowell Marks Cantu Humphrey Baxter Sawyer Clay Tanner Hutchinson Kaur Berg
Wiley Gilmore Russo Villegas Hobbs Keith Wilkerson Ahmed Beard McClain Montes Mata Rosario
Vang Walter Henson Oneal Mosley McClure Beasley Stephenson Snow Huerta Preston Vance Barry
Johns Eaton Blackwell Dyer Prince Macdonald Solomon Guevara Stafford English Hurst Woodard
Cortes Shannon Kemp Nolan McCullough Merritt Murillo Moon Salgado Strong Kline Cordova Barajas
Roach Rosas Winters Jacobson Lester Knox Bullock Kerr Leach Meadows Orr Davila Whitehead
Pruitt Kent Conway McKee Barr David Dejesus Marin Berger McIntyre Blankenship Gaines Palacios
Cuevas Bartlett Durham Dorsey McCall Odonnell Stein Browning Stout Lowery Sloan McLean Hendricks
Calhoun Sexton Chung Gentry Hull Duarte Ellison Nielsen Gillespie Buck Middleton Sellers Leblanc
Esparza Hardin Bradshaw McIntosh Howe Livingston Frost Glass Morse Knapp Herman Stark Bravo
Noble Spears Weeks Corona Frederick Buckley McFarland Hebert Enriquez Hickman Quintero Randolph
Schaefer Walls Trejo House Reilly Pennington Michael Conrad Giles Benjamin Crosby Fitzpatrick
Donovan Mays Mahoney Valentine Raymond Medrano Hahn McMillan Small Bentley Felix Peck Lucero
Boyle Hanna Pace Rush Hurley Harding McConnell Bernal Nava Ayers Everett Ventura Avery Pugh
Mayer Bender Shepard McMahon Landry Case Sampson Moses Magana Blackburn Dunlap Gould Duffy
Vaughan Herring McKay Espinosa Rivers Farley Bernard Ashley Friedman Potts Truong Costa Correa
Blevins Nixon Clements Fry Delarosa Best Benton Lugo Portillo Dougherty Crane Haley Phan
Villalobos Blanchard Horne Finley Quintana Lynn Esquivel Bean Dodson Mullen Xiong Hayden Cano
Levy Huber Richmond Moyer Lim Frye Sheppard McCarty Avalos Booker Waller Parra Woodward Jaramillo
Krueger Rasmussen Brandt Peralta Donaldson Stuart Faulkner Maynard Galindo Coffey Estes
Sanford Burch Maddox Vo Oconnell Vu Andersen Spence McPherson Church Schmitt Stanton Leal
Cherry Compton Dudley Sierra Pollard Alfaro Hester Proctor Lu Hinton Novak Good Madden
McCann Terrell Jarvis Dickson Reyna Cantrell Mayo Branch Hendrix Rollins Rowland Whitney Duke
Odom Daugherty Travis Tang Archer""".split()

STREETS = """Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Walnut Sunset Lincoln Jackson
Church River Highland Willow Meadow Forest Spring Ridge Valley Cherry Chestnut Franklin
Madison Jefferson Adams Birch Dogwood Magnolia Sycamore Laurel Hickory Poplar""".split()
STREET_KINDS = ["St", "Ave", "Rd", "Dr", "Ln", "Blvd", "Ct", "Way", "Pl"]
# (city, state, ZIP prefix): a ZIP is the prefix and two random digits.
CITIES = [
    ("Houston", "TX", "770"), ("Dallas", "TX", "752"), ("Austin", "TX", "787"),
    ("San Antonio", "TX", "782"), ("Phoenix", "AZ", "850"), ("Tucson", "AZ", "857"),
    ("Los Angeles", "CA", "900"), ("San Diego", "CA", "921"), ("Sacramento", "CA", "958"),
    ("Fresno", "CA", "937"), ("Chicago", "IL", "606"), ("Springfield", "IL", "627"),
    ("New York", "NY", "100"), ("Buffalo", "NY", "142"), ("Philadelphia", "PA", "191"),
    ("Pittsburgh", "PA", "152"), ("Columbus", "OH", "432"), ("Cleveland", "OH", "441"),
    ("Jacksonville", "FL", "322"), ("Miami", "FL", "331"), ("Tampa", "FL", "336"),
    ("Orlando", "FL", "328"), ("Atlanta", "GA", "303"), ("Savannah", "GA", "314"),
    ("Charlotte", "NC", "282"), ("Raleigh", "NC", "276"), ("Nashville", "TN", "372"),
    ("Memphis", "TN", "381"), ("Denver", "CO", "802"), ("Seattle", "WA", "981"),
    ("Spokane", "WA", "992"), ("Portland", "OR", "972"), ("Las Vegas", "NV", "891"),
    ("Detroit", "MI", "482"), ("Grand Rapids", "MI", "495"), ("Indianapolis", "IN", "462"),
    ("Milwaukee", "WI", "532"), ("Minneapolis", "MN", "554"), ("Kansas City", "MO", "641"),
    ("St. Louis", "MO", "631"), ("Louisville", "KY", "402"), ("Baltimore", "MD", "212"),
    ("Boston", "MA", "021"), ("Oklahoma City", "OK", "731"), ("Albuquerque", "NM", "871"),
    ("Omaha", "NE", "681"), ("Boise", "ID", "837"), ("Salt Lake City", "UT", "841"),
    ("Birmingham", "AL", "352"), ("Little Rock", "AR", "722"), ("Des Moines", "IA", "503"),
]

# 30 product families: (SKU code, product word, price range in dollars).
FAMILIES = [
    ("KTL", "Electric Kettle", 19, 89), ("MUG", "Ceramic Mug", 6, 24),
    ("LMP", "Desk Lamp", 15, 120), ("BLK", "Throw Blanket", 18, 75),
    ("BPK", "Backpack", 22, 140), ("JKT", "Rain Jacket", 35, 180),
    ("PZL", "Jigsaw Puzzle", 9, 39), ("SPK", "Bluetooth Speaker", 25, 160),
    ("CBL", "USB-C Cable", 5, 29), ("NTB", "Notebook", 4, 19),
    ("BTL", "Water Bottle", 9, 45), ("CDL", "Scented Candle", 8, 35),
    ("PLW", "Bed Pillow", 14, 70), ("SCF", "Knit Scarf", 12, 48),
    ("WLT", "Leather Wallet", 15, 85), ("PAN", "Frying Pan", 18, 110),
    ("KNF", "Chef Knife", 20, 150), ("TWL", "Bath Towel", 8, 40),
    ("SHT", "Sheet Set", 25, 130), ("RUG", "Area Rug", 30, 260),
    ("CHR", "Folding Chair", 20, 95), ("TBL", "Side Table", 35, 220),
    ("FAN", "Desk Fan", 15, 80), ("HDP", "Headphones", 18, 250),
    ("CHG", "Wall Charger", 9, 49), ("TOY", "Building Blocks", 12, 90),
    ("DOG", "Dog Leash", 8, 35), ("CAT", "Cat Bed", 15, 60),
    ("GDN", "Garden Hose", 18, 75), ("TLS", "Screwdriver Set", 12, 65),
]
VARIANTS = ["BLK", "WHT", "GRY", "BLU", "RED", "GRN", "NAT", "SM", "MD", "LG"]
MODELS_PER_FAMILY = 10  # × 10 variants × 30 families = 3,000 SKUs

SHIP_METHODS = (["Standard"] * 14 + ["Value"] * 3 + ["Express"] * 2 + ["OneDay"])
# (carrier, weight): carriers' shares of a small US seller's parcels.
CARRIERS = [("USPS", 45), ("UPS", 30), ("FedEx", 20), ("OnTrac", 3), ("DHL", 2)]
SHIP_ERRORS = [
    ("INVALID_REQUEST_CONTENT", "trackingNumber",
     "Tracking number already used on another purchase order"),
    ("INVALID_REQUEST_CONTENT", "carrierName",
     "Carrier does not support the method code given"),
    ("CONTENT_NOT_FOUND", "lineNumber", "Order line quantity exceeds the quantity left to ship"),
]
CANCEL_REASONS = ["SELLER_CANCEL_OUT_OF_STOCK"] * 6 + ["CUSTOMER_REQUESTED_SELLER_TO_CANCEL"] * 4
RETURN_REASONS = ["DAMAGED_ITEM", "WRONG_ITEM", "NO_LONGER_NEEDED", "DEFECTIVE",
                  "DOES_NOT_FIT", "ARRIVED_LATE"]


def catalogue(seed: int) -> list[tuple[str, str, int]]:
    """3,000 (SKU, product name, price in cents), like "KTL-1042-BLK"."""
    rng = random.Random(seed * 7919 + 1)
    items = []
    for code, word, low, high in FAMILIES:
        models = rng.sample(range(1000, 2000), MODELS_PER_FAMILY)
        for model in sorted(models):
            base = rng.randint(low * 100, high * 100) // 100 * 100 - 1  # a $x.99 price
            for variant in VARIANTS:
                items.append((f"{code}-{model}-{variant}", f"{word} {model} {variant.title()}",
                              base))
    return items
