"""A quick stand-in for the tutorial's Keras MNIST run function: no training, same signature.

It returns a smooth fake "validation accuracy" over the tutorial's six hyperparameters, so a
search of the tutorial's problem runs in seconds. Set SYNTHETIC_SLEEP (seconds) to make each
evaluation take longer, like a real training.
"""

import math
import os
import time


def run(param_dict):
    time.sleep(float(os.environ.get("SYNTHETIC_SLEEP", "0.05")))
    u1, u2 = param_dict['nunits_1'], param_dict['nunits_2']
    d1, d2 = param_dict['dropout_1'], param_dict['dropout_2']
    bs = param_dict['log2_batch_size']
    best_bs = 6 if param_dict['optimizer_type'] == 'Adam' else 7.5
    capacity = 1 - 0.5 * math.exp(-u1 / 35) - 0.3 * math.exp(-u2 / 12)
    accuracy = (0.70 + 0.26 * capacity - 0.3 * (1.6 * (d1 - 0.18) ** 2 + 2.2 * (d2 - 0.12) ** 2)
                - 0.012 * (bs - best_bs) ** 2)
    print(f"trained with {param_dict}: validation accuracy {accuracy:.4f}")
    return accuracy
