"""Stop words shipped in code, so the analyzer needs no downloads at run time.

Two lists, because they serve two purposes:

- ``FUNCTION_WORDS``: grammar words with no topical content. Removed before measuring
  lexical cohesion between stretches of a transcript.
- ``SPOKEN_FILLER``: words that carry meaning but not topic in a spoken lecture (the
  lecturer's verbs of talking and pointing, hedges, classroom words, and the cue words
  the importance scorer looks for). Also removed from cohesion, and they split candidate
  keyphrases so that "let's look at binary trees" yields "binary trees".
"""

from __future__ import annotations

FUNCTION_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anybody anyhow anyone anything anyway
    anywhere are aren't around as at be became because become becomes becoming been before
    beforehand behind being below beside besides between beyond both but by can can't cannot
    could couldn't did didn't do does doesn't doing don't done down during each either else
    elsewhere enough etc even ever every everybody everyone everything everywhere except few
    for former formerly from further had hadn't has hasn't have haven't having he he'd he'll
    he's hence her here here's hereafter hereby herein hers herself him himself his how how's
    however i i'd i'll i'm i've ie if in inside instead into is isn't it it'd it'll it's its
    itself just least less let's like likely many may maybe me meanwhile might mine more
    moreover most mostly much must mustn't my myself namely neither never nevertheless next no
    nobody none noone nor not nothing now nowhere of off often on once one's only onto or other
    others otherwise ought our ours ourselves out outside over own per perhaps rather same
    several shall shan't she she'd she'll she's should shouldn't since so some somebody somehow
    someone something sometime sometimes somewhat somewhere still such than that that's the
    their theirs them themselves then thence there there's thereafter thereby therefore therein
    thereupon these they they'd they'll they're they've this those though through throughout
    thru thus to together too toward towards under until unless up upon us very via was wasn't
    we we'd we'll we're we've were weren't what what's whatever when when's whence whenever
    where where's whereafter whereas whereby wherein whereupon wherever whether which while
    whither who who's whoever whole whom whose why why's will with within without won't would
    wouldn't yes yet you you'd you'll you're you've your yours yourself yourselves
    zero one two three four five six seven eight nine ten first second third last
    """.split()  # noqa: SIM905 - a word list reads better as text
)

SPOKEN_FILLER = frozenset(
    """
    ok okay alright right yeah yep uh um uhm er erm ah oh hmm hey hi hello welcome thanks thank
    please sorry well so anyway actually basically really literally simply just quite pretty
    certainly clearly obviously probably possibly essentially generally usually typically
    exactly definitely surely kind lot lots bit thing things stuff way ways something
    anything everything part parts example examples instance
    question questions answer answers today tomorrow yesterday now minute minutes
    hour hours week weeks day days year years moment class lecture lectures
    course slide slides board screen page pages chapter section notes note homework assignment
    student students people person everybody folks guys
    say says said saying tell tells told talk talks talked talking speak mention mentioned
    go goes going gone went get gets got getting gotten come comes came coming make makes made
    making take takes took taking taken give gives gave given giving put puts putting keep
    keeps kept look looks looked looking see sees saw seen seeing show shows showed shown
    showing think thinks thought thinking know knows knew known knowing want wants wanted need
    needs needed use uses used using try tries tried trying let lets mean means meant
    called calling start starts started starting begin begins began end ends ended move
    moves moved moving turn turns turned find finds found finding
    happen happens happened happening seem seems seemed feel feels felt ask asks asked
    remember recall recap summary summarise summarize summarising summarizing summarised
    summarized review important importance crucial essential central main exam exams
    quiz quizzes definition defined define defines idea ideas concept concepts
    note notice understand understood learn learned learnt wrap
    good great nice new old big small little different same whole various certain sure
    able many much more most less least very lot far long short high low better best
    also just even still already yet again ever never always often sometimes usually
    first second third last next previous following finally then later earlier
    """.split()  # noqa: SIM905 - a word list reads better as text
)

STOP_WORDS = FUNCTION_WORDS | SPOKEN_FILLER
