# Sphinx configuration of the docs site (scripts/docs.sh builds it into build/docs/). Not shipped.
# Started from `antsibull-docs sphinx-init`; intersphinx reads a local inventory that
# scripts/docs.sh writes (no network here), so links to Ansible's own docs still resolve.
import os

project = "tasksequence.windows"
copyright = "Task Sequence for Ansible maintainers"
title = "tasksequence.windows"
html_short_title = "tasksequence.windows"

extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

intersphinx_mapping = {
    "ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", os.environ["TASKSEQUENCE_DOCS_INVENTORY"]),
}
intersphinx_disabled_reftypes = []

default_role = "any"
nitpicky = True
