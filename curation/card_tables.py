"""The dataset card's data tables: which licences the Hub accepts, and BibTeX of upstream works.

Kept apart from the rendering (`curation.card`) so adding a source's licence or citation is
a data edit, not a change to the card's layout code.
"""

from __future__ import annotations

import re

# --- licences --------------------------------------------------------------------------------

UNKNOWN_LICENSES = frozenset({"", "unknown", "none", "noassertion", "other"})
# Licence ids the Hub's `license:` field accepts (lower-case SPDX where one exists).
HUB_LICENSE_IDS = frozenset(
    {
        "apache-2.0", "mit", "bsd-2-clause", "bsd-3-clause", "cc0-1.0", "cc-by-4.0", "cc-by-sa-4.0",
        "cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "cc-by-nd-4.0", "cc-by-3.0", "cc-by-sa-3.0",
        "odc-by", "odbl", "pddl", "gpl-3.0", "lgpl-3.0", "agpl-3.0", "mpl-2.0", "llama2", "llama3",
    }
)
_NC = re.compile(r"(^|[-_ ])nc([-_ ]|$)")


def license_id(value: str | None) -> str:
    """The licence's SPDX-like id, lower-cased, without notes in parentheses."""
    return re.sub(r"\s*\(.*\)\s*$", "", (value or "").strip()).lower()


def is_unknown_license(value: str | None) -> bool:
    return license_id(value) in UNKNOWN_LICENSES


def is_noncommercial(value: str | None) -> bool:
    """CC *-NC-* licences (e.g. AlpacaEval's model outputs, CC-BY-NC-4.0)."""
    return bool(_NC.search(license_id(value)))


def hub_license(value: str | None) -> str:
    lid = license_id(value)
    return lid if lid in HUB_LICENSE_IDS else "other"


# --- citations -------------------------------------------------------------------------------

REWARDBENCH_BIBTEX = """@misc{lambert2024rewardbench,
  title={RewardBench: Evaluating Reward Models for Language Modeling},
  author={Nathan Lambert and Valentina Pyatkin and Jacob Morrison and LJ Miranda and Bill Yuchen Lin and Khyathi Chandu and Nouha Dziri and Sachin Kumar and Tom Zick and Yejin Choi and Noah A. Smith and Hannaneh Hajishirzi},
  year={2024},
  eprint={2403.13787},
  archivePrefix={arXiv},
  primaryClass={cs.LG}
}"""

# BibTeX of every upstream work a builder cites (SourceFile.citation). Keys are matched exactly,
# then by their author prefix ("zeng2024llmbar" -> "zeng"), so builders need not agree on years.
CITATIONS: dict[str, str] = {
    "zeng2024llmbar": """@inproceedings{zeng2024llmbar,
  title={Evaluating Large Language Models at Evaluating Instruction Following},
  author={Zhiyuan Zeng and Jiatong Yu and Tianyu Gao and Yu Meng and Tanya Goyal and Danqi Chen},
  booktitle={International Conference on Learning Representations (ICLR)},
  year={2024}
}""",
    "li2023alpacaeval": """@misc{li2023alpacaeval,
  title={AlpacaEval: An Automatic Evaluator of Instruction-following Models},
  author={Xuechen Li and Tianyi Zhang and Yann Dubois and Rohan Taori and Ishaan Gulrajani and Carlos Guestrin and Percy Liang and Tatsunori B. Hashimoto},
  year={2023},
  howpublished={\\url{https://github.com/tatsu-lab/alpaca_eval}}
}""",
    "zheng2023judging": """@inproceedings{zheng2023judging,
  title={Judging {LLM}-as-a-Judge with {MT}-Bench and Chatbot Arena},
  author={Lianmin Zheng and Wei-Lin Chiang and Ying Sheng and Siyuan Zhuang and Zhanghao Wu and Yonghao Zhuang and Zi Lin and Zhuohan Li and Dacheng Li and Eric P. Xing and Hao Zhang and Joseph E. Gonzalez and Ion Stoica},
  booktitle={Advances in Neural Information Processing Systems Datasets and Benchmarks Track},
  year={2023},
  eprint={2306.05685},
  archivePrefix={arXiv}
}""",
    "rottger2024xstest": """@inproceedings{rottger2024xstest,
  title={{XSTest}: A Test Suite for Identifying Exaggerated Safety Behaviours in Large Language Models},
  author={Paul R{\\"o}ttger and Hannah Rose Kirk and Bertie Vidgen and Giuseppe Attanasio and Federico Bianchi and Dirk Hovy},
  booktitle={Proceedings of NAACL},
  year={2024},
  eprint={2308.01263},
  archivePrefix={arXiv}
}""",
    "wang2023donotanswer": """@misc{wang2023donotanswer,
  title={Do-Not-Answer: A Dataset for Evaluating Safeguards in {LLMs}},
  author={Yuxia Wang and Haonan Li and Xudong Han and Preslav Nakov and Timothy Baldwin},
  year={2023},
  eprint={2308.13387},
  archivePrefix={arXiv}
}""",
    "brahman2024coconot": """@misc{brahman2024coconot,
  title={The Art of Saying No: Contextual Noncompliance in Language Models},
  author={Faeze Brahman and Sachin Kumar and Vidhisha Balachandran and Pradeep Dasigi and Valentina Pyatkin and Abhilasha Ravichander and Sarah Wiegreffe and Nouha Dziri and Khyathi Chandu and Jack Hessel and Yulia Tsvetkov and Noah A. Smith and Yejin Choi and Hannaneh Hajishirzi},
  year={2024},
  eprint={2407.12043},
  archivePrefix={arXiv}
}""",
    "muennighoff2023octopack": """@article{muennighoff2023octopack,
  title={OctoPack: Instruction Tuning Code Large Language Models},
  author={Niklas Muennighoff and Qian Liu and Armel Zebaze and Qinkai Zheng and Binyuan Hui and Terry Yue Zhuo and Swayam Singh and Xiangru Tang and Leandro von Werra and Shayne Longpre},
  journal={arXiv preprint arXiv:2308.07124},
  year={2023}
}""",
    "lightman2023verify": """@article{lightman2023verify,
  title={Let's Verify Step by Step},
  author={Hunter Lightman and Vineet Kosaraju and Yura Burda and Harri Edwards and Bowen Baker and Teddy Lee and Jan Leike and John Schulman and Ilya Sutskever and Karl Cobbe},
  journal={arXiv preprint arXiv:2305.20050},
  year={2023}
}""",
    "hendrycks2021math": """@inproceedings{hendrycks2021math,
  title={Measuring Mathematical Problem Solving With the {MATH} Dataset},
  author={Dan Hendrycks and Collin Burns and Saurav Kadavath and Akul Arora and Steven Basart and Eric Tang and Dawn Song and Jacob Steinhardt},
  booktitle={NeurIPS Datasets and Benchmarks Track},
  year={2021}
}""",
    "bai2022training": """@article{bai2022training,
  title={Training a Helpful and Harmless Assistant with Reinforcement Learning from Human Feedback},
  author={Yuntao Bai and Andy Jones and Kamal Ndousse and Amanda Askell and Anna Chen and Nova DasSarma and Dawn Drain and Stanislav Fort and Deep Ganguli and Tom Henighan and others},
  journal={arXiv preprint arXiv:2204.05862},
  year={2022}
}""",
    "askell2021general": """@article{askell2021general,
  title={A General Language Assistant as a Laboratory for Alignment},
  author={Amanda Askell and Yuntao Bai and Anna Chen and Dawn Drain and Deep Ganguli and Tom Henighan and Andy Jones and Nicholas Joseph and Ben Mann and Nova DasSarma and others},
  journal={arXiv preprint arXiv:2112.00861},
  year={2021}
}""",
    "ethayarajh2022understanding": """@inproceedings{ethayarajh2022understanding,
  title={Understanding Dataset Difficulty with $\\mathcal{V}$-Usable Information},
  author={Kawin Ethayarajh and Yejin Choi and Swabha Swayamdipta},
  booktitle={Proceedings of the 39th International Conference on Machine Learning},
  series={Proceedings of Machine Learning Research},
  volume={162},
  pages={5988--6008},
  year={2022}
}""",
    "stiennon2020learning": """@inproceedings{stiennon2020learning,
  title={Learning to Summarize with Human Feedback},
  author={Nisan Stiennon and Long Ouyang and Jeffrey Wu and Daniel Ziegler and Ryan Lowe and Chelsea Voss and Alec Radford and Dario Amodei and Paul F. Christiano},
  booktitle={Advances in Neural Information Processing Systems},
  volume={33},
  pages={3008--3021},
  year={2020}
}""",
}
_AUTHOR = re.compile(r"^[a-z]+")


def bibtex_for(key: str) -> str | None:
    """BibTeX for a citation key: a raw entry (starts with '@'), an exact key, or its author prefix."""
    key = (key or "").strip()
    if key.startswith("@"):
        return key
    lowered = key.lower()
    for known, entry in CITATIONS.items():
        if known.lower() == lowered:
            return entry
    author = _AUTHOR.match(lowered)
    if author:
        hits = [entry for known, entry in CITATIONS.items() if _AUTHOR.match(known).group(0) == author.group(0)]
        if len(hits) == 1:
            return hits[0]
    return None
