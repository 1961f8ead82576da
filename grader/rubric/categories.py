"""The bank's categories; kept free of heavy imports so `--help` stays fast."""

import re

# Category slug -> (English name, Chinese name). The bank's directories use the slugs.
CATEGORIES: dict[str, tuple[str, str]] = {
    "cnn-architectures": ("CNN architectures", "CNN 网络结构"),
    "normalization": ("Normalization", "归一化"),
    "activations-optimisation": ("Activations/optimisation", "激活函数与优化"),
    "losses": ("Losses", "损失函数"),
    "detection": ("Detection", "目标检测"),
    "segmentation": ("Segmentation", "语义分割"),
    "classical-ml": ("Classical ML", "机器学习基础"),
    "python": ("Python", "Python"),
    "os-systems": ("OS/systems", "操作系统与系统工程"),
    "linear-algebra": ("Linear algebra", "线性代数"),
    "coding-algorithms": ("Coding/algorithms", "编程与算法"),
}


def category_names(slug: str) -> tuple[str, str]:
    """(English, Chinese) name of a category; a team's own category is named by its slug."""
    if slug in CATEGORIES:
        return CATEGORIES[slug]
    name = slug.replace("-", " ").capitalize()
    return name, name


def category_slug(value: str) -> str | None:
    """The slug of a category given by slug or English/Chinese name; any other slug names a
    category of its own (a team's). None when it is neither."""
    key = value.strip().lower()
    for slug, (en, zh) in CATEGORIES.items():
        if key in (slug, en.lower(), zh.lower()):
            return slug
    if len(key) <= 64 and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key):
        return key
    return None
