"""The bank's categories; kept free of heavy imports so `--help` stays fast."""

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
