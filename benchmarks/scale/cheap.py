"""A closed-form stand-in for the tutorial's run function (examples/tutorial/synthetic_run.py
without its sleep and print): what `hyperfleet simulate -r` evaluates for real."""

import math


def run(param_dict):
    u1, u2 = param_dict['nunits_1'], param_dict['nunits_2']
    d1, d2 = param_dict['dropout_1'], param_dict['dropout_2']
    bs = param_dict['log2_batch_size']
    best_bs = 6 if param_dict['optimizer_type'] == 'Adam' else 7.5
    capacity = 1 - 0.5 * math.exp(-u1 / 35) - 0.3 * math.exp(-u2 / 12)
    return (0.70 + 0.26 * capacity - 0.3 * (1.6 * (d1 - 0.18) ** 2 + 2.2 * (d2 - 0.12) ** 2)
            - 0.012 * (bs - best_bs) ** 2)
