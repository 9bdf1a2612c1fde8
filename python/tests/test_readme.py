"""The Python examples of README.md (```pycon blocks) and docs/python.md run as doctests: the
output shown is the output produced (ELLIPSIS and NORMALIZE_WHITESPACE)."""
import doctest
import os
import pathlib
import re

import pytest

SOURCE = pathlib.Path(os.environ.get("AMARI_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def blocks(path):
    text = path.read_text()
    return re.findall(r"^```pycon\n(.*?)^```", text, flags=re.M | re.S)


@pytest.mark.parametrize("doc", ["README.md", "docs/python.md"])
def test_examples(doc, tmp):
    os.chdir(tmp)
    found = blocks(SOURCE / doc)
    assert found, "no ```pycon examples in " + doc
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = {}
    for i, b in enumerate(found):
        test = parser.get_doctest(b, globs, "%s[%d]" % (doc, i), doc, 0)
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0 and failed == 0
