"""Raw word lists of the lexicon: real English words, grouped by class and annotated.

The lists are plain text so they stay easy to read and to extend; :mod:`utils.corpus.lexicon`
parses them, inflects them and attaches every annotation. Within each list words come
roughly in decreasing frequency, which the grammar uses as the Zipf rank.

Notation
--------
Nouns (``NOUNS``, keyed by ``(semantic class, topic)``):
    ``word`` regular plural, ``word/plural`` irregular plural, ``word!`` mass noun (no
    plural), ``:M`` / ``:F`` suffix for inherent gender.
Verbs (``VERBS``, keyed by ``(frame, subject type, object type, topic)``):
    ``word`` regular, ``word+`` doubles its final consonant (stop, stopped, stopping),
    ``word=past=participle`` irregular.
Adjectives (``ADJECTIVES``, keyed by the noun types they modify):
    ``word`` takes *more*/*most*, ``word~`` inflects (-er/-est, with the usual spelling
    changes), ``word=comparative=superlative`` irregular.

Frames: ``intr`` intransitive, ``tr`` transitive, ``ditr`` ditransitive (NP NP and NP to
NP), ``comp`` sentential complement (that-clause). Noun types: ``H`` person, ``N``
animal, ``T`` thing, ``F`` food, ``P`` place, ``X`` abstract, ``E`` event, ``G`` group.
"""

TOPICS = ("politics", "sports", "science", "business", "arts", "health", "travel", "food")

NOUNS: dict[tuple[str, str], str] = {
    ("H", "general"): """
        man/men:M woman/women:F child/children person/people friend family! boy:M girl:F
        student teacher doctor neighbour parent mother:F father:M brother:M sister:F son:M
        daughter:F husband:M wife/wives:F baby kid guest visitor stranger worker driver
        owner customer member leader officer expert author writer artist
        manager clerk assistant cook guide judge nurse engineer lawyer farmer
        pilot soldier scientist secretary librarian baker banker cashier tailor carpenter
        mechanic plumber surgeon dentist pharmacist receptionist hairdresser housekeeper
        nanny dancer singer architect firefighter janitor accountant editor designer
        chef waiter:M waitress:F king:M queen:F prince:M princess:F uncle:M aunt:F
        grandmother:F grandfather:M gentleman/gentlemen:M lady:F captain neighbor
        """,
    ("H", "politics"): """
        president minister senator governor mayor citizen voter diplomat ambassador
        candidate politician official spokesman:M spokeswoman:F activist protester
        """,
    ("H", "sports"): """
        player coach athlete runner fan referee champion goalkeeper swimmer boxer
        captain striker cyclist skier
        """,
    ("H", "science"): """
        researcher physicist chemist biologist professor technician inventor
        astronaut mathematician engineer programmer
        """,
    ("H", "business"): """
        investor banker client employee employer director partner supplier buyer seller
        trader consultant economist shareholder entrepreneur
        """,
    ("H", "arts"): """
        painter actor:M actress:F musician composer poet novelist director photographer
        critic sculptor pianist violinist drummer audience!
        """,
    ("H", "health"): """
        patient surgeon nurse therapist physician midwife/midwives:F paramedic pharmacist
        """,
    ("H", "travel"): """
        tourist traveller passenger pilot driver guide sailor stranger
        """,
    ("H", "food"): """
        chef cook baker waiter:M waitress:F butcher farmer diner
        """,
    ("N", "general"): """
        dog cat horse bird fish/fish cow sheep/sheep pig chicken duck rabbit mouse/mice
        lion tiger bear wolf/wolves fox deer/deer monkey elephant snake frog bee insect
        """,
    ("T", "general"): """
        watch record light book plan car door window table chair phone letter key bag box
        bottle cup picture clock computer camera bed lamp ball bike pen pencil
        glass mirror knife/knives shirt shoe hat coat dress jacket ring card map ticket
        paper! newspaper magazine gift package machine tool engine wheel boat ship train
        truck bus plane radio television screen wall floor roof stone rock tree flower
        leaf/leaves box bridge tower fence gate painting drawing building photo button
        blanket pillow candle basket brush bucket rope chain coin wallet umbrella sign
        """,
    ("T", "politics"): """
        law bill vote ballot report document flag speech statement treaty
        """,
    ("T", "sports"): """
        ball goal trophy medal bat racket helmet boot jersey net
        """,
    ("T", "science"): """
        computer microscope telescope sample device sensor battery satellite robot
        laptop chip signal
        """,
    ("T", "business"): """
        contract product share bond check invoice receipt budget catalogue brochure
        """,
    ("T", "arts"): """
        painting song album film movie novel poem guitar piano violin drum sculpture
        portrait statue
        """,
    ("T", "health"): """
        medicine pill bandage mask needle prescription syringe
        """,
    ("T", "travel"): """
        suitcase passport ticket map camera tent backpack guidebook postcard
        """,
    ("F", "general"): """
        bread! cake apple orange egg sandwich potato/potatoes tomato/tomatoes soup! coffee!
        tea! milk! water! rice! cheese! meat! fish/fish banana cookie pie salad lemon
        """,
    ("F", "food"): """
        pizza pasta! chocolate! butter! onion carrot pepper sauce steak burger dessert
        breakfast lunch dinner meal recipe
        """,
    ("P", "general"): """
        house home city town village street road room kitchen garden park school office shop
        store market hospital church library station airport hotel restaurant bank
        farm field forest river lake beach mountain island hill valley square corner
        building museum theatre prison factory apartment bedroom hall yard country
        """,
    ("P", "politics"): """
        parliament capital embassy province district border palace court
        """,
    ("P", "sports"): """
        stadium gym pool court track arena pitch
        """,
    ("P", "science"): """
        laboratory lab university observatory
        """,
    ("P", "business"): """
        company! market headquarters/headquarters warehouse mall
        """,
    ("P", "arts"): """
        gallery studio theatre cinema stage
        """,
    ("P", "health"): """
        clinic hospital ward pharmacy
        """,
    ("P", "travel"): """
        airport harbour port beach resort camp coast desert
        """,
    ("P", "food"): """
        restaurant cafe bakery kitchen bar
        """,
    ("X", "general"): """
        plan change question answer idea problem story reason truth fact result
        decision chance mistake choice news! advice! information! opinion rule
        secret word name role price cost value view point message detail
        experience future! past! history! time! life/lives love! fear hope trust peace!
        support progress! interest attention! effort success failure risk danger
        """,
    ("X", "politics"): """
        policy election government reform tax debate campaign crisis agreement
        power! freedom! right justice! vote
        """,
    ("X", "sports"): """
        score record victory defeat title season training! strategy
        """,
    ("X", "science"): """
        theory study data! method evidence! discovery experiment research! model
        technology energy! analysis
        """,
    ("X", "business"): """
        profit price deal trade! growth! market investment loss debt salary income plan
        strategy demand! supply! increase
        """,
    ("X", "arts"): """
        style design art! music! culture! beauty! talent drama! poetry! theme
        """,
    ("X", "health"): """
        disease illness pain health! treatment diet cure symptom infection fever
        """,
    ("X", "travel"): """
        journey trip route distance direction holiday vacation adventure
        """,
    ("X", "food"): """
        taste flavour smell hunger! appetite recipe
        """,
    ("E", "general"): """
        visit call meeting show walk talk party event trip game accident fire storm
        wedding birthday holiday dance lesson class test exam concert festival
        """,
    ("E", "politics"): """
        election protest vote summit strike scandal war battle
        """,
    ("E", "sports"): """
        match race game tournament championship final run
        """,
    ("E", "science"): """
        experiment test conference lecture launch
        """,
    ("E", "business"): """
        sale auction meeting interview negotiation
        """,
    ("E", "arts"): """
        concert exhibition performance premiere rehearsal recital
        """,
    ("E", "health"): """
        operation surgery checkup appointment injury
        """,
    ("E", "travel"): """
        flight voyage tour cruise
        """,
    ("E", "food"): """
        feast picnic banquet
        """,
    ("G", "general"): """
        team group company committee club crowd class band staff! family
        """,
    ("G", "politics"): """
        party government council army union
        """,
    ("G", "business"): """
        firm bank agency board
        """,
}

# Time nouns are kept apart: they head temporal adjuncts ("last week", "every morning").
TIME_NOUNS = "day week month year morning evening night afternoon weekend hour minute"
# Deictic time words are nouns in UD English (obl:tmod): "She left yesterday."
DEICTIC_TIME = "yesterday today tomorrow"

# (frame, subject type, object types, topic) -> verbs. Subject type: H person (and groups),
# A anything animate or not. Object types: letters from the noun types above.
VERBS: dict[tuple[str, str, str, str], str] = {
    ("tr", "H", "HNTFPG", "general"): """
        watch see=saw=seen love need find=found=found like hate want remember
        notice follow describe photograph
        """,
    ("tr", "H", "H", "general"): """
        visit call help meet=met=met thank invite know=knew=known admire trust
        marry contact phone greet hug+ kiss ignore avoid blame praise pay=paid=paid
        encourage surprise join warn forgive=forgave=forgiven worry excite interest bore
        scare
        """,
    ("tr", "H", "TF", "general"): """
        have=had=had record change check order use paint get=got=got buy=bought=bought
        sell=sold=sold bring=brought=brought carry open close move
        take=took=taken keep=kept=kept hold=held=held break=broke=broken fix clean drop+
        lose=lost=lost order use hide=hid=hidden lift push pull wash paint throw=threw=thrown
        catch=caught=caught choose=chose=chosen steal=stole=stolen share borrow lend=lent=lent
        pack deliver return check mark replace
        """,
    ("tr", "H", "T", "general"): """
        dry warm clear free clean empty calm quiet build=built=built make=made=made repair
        design light=lit=lit read=read=read
        write=wrote=written print draw=drew=drawn wear=wore=worn fill cover test
        """,
    ("tr", "H", "F", "general"): """
        eat=ate=eaten cook taste drink=drank=drunk prepare serve bake+ grow=grew=grown
        """,
    ("tr", "H", "X", "general"): """
        plan+ support change study answer question discuss explain
        understand=understood=understood accept
        consider change study answer solve share forget=forgot=forgotten learn doubt
        remember mention ignore prefer+ fear deny reject imagine hear=heard=heard desire
        """,
    ("tr", "H", "P", "general"): """
        leave=left=left visit enter reach clean paint search cross own
        """,
    ("tr", "H", "E", "general"): """
        attend organize plan+ cancel miss start finish enjoy host postpone
        """,
    ("tr", "H", "X", "politics"): """
        elect=elected=elected oppose debate propose announce approve reform defend
        """,
    ("tr", "H", "HG", "politics"): """
        elect oppose defend represent criticize
        """,
    ("tr", "H", "EX", "sports"): """
        win=won=won lose=lost=lost play lead=led=led score train
        """,
    ("tr", "H", "H", "sports"): """
        beat=beat=beaten coach tackle defeat
        """,
    ("tr", "H", "X", "science"): """
        measure analyze observe publish test prove discover develop
        """,
    ("tr", "H", "TX", "business"): """
        sell=sold=sold invest buy=bought=bought manage sign trade export import
        """,
    ("tr", "H", "H", "business"): """
        hire fire employ interview recruit promote
        """,
    ("tr", "H", "TX", "arts"): """
        paint compose perform sing=sang=sung direct film sketch
        """,
    ("tr", "H", "H", "health"): """
        treat cure examine heal nurse
        """,
    ("tr", "H", "P", "travel"): """
        visit explore tour cross leave=left=left
        """,
    ("tr", "H", "F", "food"): """
        cook bake boil fry roast slice chop+ order
        """,
    ("intr", "H", "", "general"): """
        arrive laugh smile cry sleep=slept=slept wait talk listen sit=sat=sat stay
        work live leave=left=left return rest agree complain sing=sang=sung dance walk
        run=ran=run swim=swam=swum shout whisper travel relax hesitate disappear
        come=came=come go=went=gone speak=spoke=spoken stand=stood=stood jump+ apologize
        wake=woke=woken yell
        """,
    ("intr", "A", "", "general"): """
        change fall=fell=fallen grow=grew=grown move start stop+ happen appear disappear
        improve begin=began=begun end continue matter rise=rose=risen shake=shook=shaken
        shine=shone=shone break=broke=broken turn spin=spun=spun
        """,
    ("intr", "H", "", "politics"): """
        vote resign protest campaign govern
        """,
    ("intr", "H", "", "sports"): """
        win=won=won score compete train race
        """,
    ("intr", "H", "", "health"): """
        recover suffer heal cough
        """,
    ("intr", "H", "", "travel"): """
        travel fly=flew=flown sail drive=drove=driven
        """,
    ("comp", "H", "", "general"): """
        say=said=said think=thought=thought believe know=knew=known hope claim feel=felt=felt
        suspect notice realize admit+ explain announce mention promise report suggest
        decide insist remember forget=forgot=forgotten hear=heard=heard agree argue
        discover guess doubt learn wish worry assume fear imagine understand=understood=understood
        """,
    ("ditr", "H", "HT", "general"): """
        give=gave=given send=sent=sent show=showed=shown offer hand lend=lent=lent
        sell=sold=sold bring=brought=brought pass mail throw=threw=thrown
        """,
    ("ditr", "H", "HX", "general"): """
        tell=told=told teach=taught=taught promise
        """,
}

# ADJECTIVES keyed by the noun types they combine with.
ADJECTIVES: dict[str, str] = {
    "HNTFPGXE": """
        good=better=best bad=worse=worst new~ old~ big~ small~ great~ little large~ long~
        late~ early~ fast~
        young~ strange~ famous important different beautiful nice~ wonderful terrible
        """,
    "HN": """
        tired married surprised worried excited interested bored scared closed
        happy~ sad~ angry~ hungry~ busy~ sick~ tall~ short~ kind~ rich~ poor~ brave~
        clever~ quiet~ calm~ lazy~ shy~ friendly~ lonely~ proud~ polite nervous curious
        honest careful patient gentle~ wise~ strong~ weak~ healthy~ silly~ rude~ smart~
        """,
    "TFP": """
        open free~ clear~ quiet~ red~ blue green~ black~ white~ yellow brown heavy~ light~
        clean~ dirty~ empty~ full~ cheap~ expensive modern warm~ cold~ hot~ dry~ wet~ dark~
        bright~ broken wooden
        soft~ hard~ thick~ thin~ round flat~ tiny~ huge~ narrow~ wide~ deep~ shiny~
        """,
    "F": """
        fresh~ sweet~ sour salty~ delicious spicy~ tasty~ raw ripe~
        """,
    "P": """
        crowded busy~ quiet~ empty~ famous beautiful ancient remote peaceful noisy~
        """,
    "XE": """
        right wrong simple~ difficult easy~ serious interesting boring exciting surprising amazing
        clear~ useful popular strange~ important recent public private secret final
        """,
}

ADVERBS = {
    # manner adverbs (RB): go after the verb or between auxiliary and verb.
    "manner": """
        fast hard late early quickly slowly carefully quietly loudly happily sadly easily
        suddenly finally clearly badly well gently politely angrily proudly nervously honestly
        seriously secretly openly calmly eagerly patiently
        """,
    # sentence adverbs that fit before the finite verb (Lakretz's "adverbs").
    "preverbal": """
        probably certainly really never often always sometimes usually rarely also
        definitely obviously apparently clearly actually just still already
        """,
    "time": "now later recently soon again",
    # place adverbs: "there" is also the existential pronoun (EX)
    "place": "there here back away",
    "degree": "very quite extremely really rather too so fairly",
}

PREPOSITIONS = {
    # prepositions that head PPs modifying nouns (and attractor PPs in agreement).
    "noun": "near behind with beside from under above without",
    # prepositions of place for adjuncts of place.
    "place": "in at near behind outside inside across around through",
}

FIRST_NAMES_M = """
    John Will Bill Mark Frank Jack David Michael James Robert William Thomas Daniel Paul
    George Peter Richard Joseph Charles Steven Andrew Kevin Brian Edward Jason Matthew Anthony Henry
    Samuel Patrick Alexander Benjamin Oliver Harry Martin Simon Adam Carlos Luis
    Ahmed Omar Ali Raj Hiroshi Kenji Ivan Pierre Hans Marco Diego Tom Sam Ben
    """
FIRST_NAMES_F = """
    Mary Sarah Rose Grace Anna Emma Linda Susan Karen Lisa Nancy Laura Emily Jessica Rachel Helen
    Julia Alice Sophie Olivia Charlotte Lucy Hannah Rebecca Kate Claire Maria
    Elena Sofia Fatima Aisha Priya Yuki Mei Ingrid Chloe Amelia Victoria Natalie Megan
    Diana Monica Jane Ellen Irene Paula Teresa Sandra Ruth Martha
    """
SURNAMES = """
    Smith Johnson Brown Taylor Miller Wilson Moore Anderson Thomas Jackson White Harris
    Martin Thompson Garcia Martinez Robinson Clark Lewis Lee Walker Hall Allen Young
    King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter
    Phillips Evans Turner Torres Parker Collins Edwards Stewart Morris Murphy Cook Rogers
    Morgan Cooper Peterson Bailey Reed Kelly Howard Cox Ward Richardson Watson Brooks
    Wood James Bennett Gray Hughes Price Sanders Patel Kumar Chen Wang Nguyen Kim Tanaka
    Schmidt Müller Rossi Dubois Ivanov Novak Silva Costa
    """
PLACES = """
    London Paris Berlin Rome Madrid Tokyo Chicago Boston Sydney Toronto Dublin Vienna
    Prague Moscow Cairo Delhi Mumbai Beijing Shanghai Seoul Lisbon Athens Oslo Stockholm
    Amsterdam Brussels Geneva Zurich Munich Milan Naples Barcelona Seattle Denver Dallas
    Houston Miami Atlanta Montreal Vancouver Melbourne Nairobi Lagos Istanbul Warsaw
    Budapest Helsinki Copenhagen France Germany Italy Spain Japan China India Canada
    Brazil Mexico Egypt Kenya Russia Australia Ireland Scotland Poland Sweden Norway
    Greece Portugal Turkey Peru Chile Argentina Texas California Florida Europe Asia
    Africa America
    """
ORGANISATIONS = """
    Google Microsoft Apple Amazon IBM Intel Samsung Sony Toyota Siemens Nike Adidas
    Reuters NASA UNESCO NATO Oxford Cambridge Harvard Yale Stanford Boeing Airbus Ford
    Tesla Netflix Disney Shell Nestle Unilever Oracle Nokia Philips Honda Volvo IKEA
    """

MONTHS = "January February March April May June July August September October November December"
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
NUMBERS = """
    two three four five six seven eight nine ten eleven twelve twenty thirty fifty
    hundred
    """
