"""The README's examples that start containers (`cdi-hook try`) run as printed, with Debian's runc.

The same runner as test_readme_examples.py, for the console blocks after
`<!-- checked with runc: tests/e2e/test_readme_runc.py -->`.
"""

import os

import test_readme_examples as readme


class ReadmeRuncExamplesTest(readme.ReadmeExamplesTest):
    marker = "<!-- checked with runc: tests/e2e/test_readme_runc.py -->"

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("these examples start containers: run the e2e tests as root")
        super().setUp()


if __name__ == "__main__":
    readme.unittest.main()
