"""A notebook's live objects: `gate2xlsx.export(obj, "out.xlsx")` run inside each framework's
own venv (tf.keras 2.15 in /opt/tf215; Keras 3, torch and scikit-learn in /opt/k3), with
gate2xlsx importable there (`pip install --no-deps -e . openpyxl`). The venv writes the
workbook and the framework's own outputs for a few rows; here each row is typed into `input`,
LibreOffice recalculates, and `output` must equal the framework within 1e-5."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest
from keras_venvs import run

from gate2xlsx.readers.xlsx import named_values, set_named_values

pytestmark = pytest.mark.libreoffice
TOL = 1e-5

TF_KERAS = """
import json, sys, numpy as np, tensorflow as tf, gate2xlsx
from tensorflow import keras
out = sys.argv[1]
tf.keras.utils.set_random_seed(7)
rng = np.random.default_rng(7)
x = rng.normal(size=(4, 3)).astype("float32")
chain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(5, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Dropout(0.3),
                          keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2,
                          activation="softmax")], name="mixed_chain")
chain.compile("adam", "categorical_crossentropy")
chain.fit(rng.normal(size=(32, 3)), np.eye(2)[rng.integers(0, 2, 32)], epochs=3, verbose=0)
inner = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="elu")],
                         name="inner")
i = keras.Input((3,), name="features")
h = keras.layers.Dense(4, activation="sigmoid", name="hidden")(i)
nested = keras.Model(i, keras.layers.Dense(1, activation="sigmoid", name="out")(inner(h)),
                     name="nested")
done = {}
for model in (chain, nested):
    gate2xlsx.export(model, f"{out}/{model.name}.xlsx")
    done[model.name] = {"x": x.tolist(), "y": model.predict(x, verbose=0).tolist()}
print(json.dumps(done))
"""

K3_TORCH_SKLEARN = """
import json, sys, numpy as np, torch, keras, gate2xlsx
from sklearn.neural_network import MLPClassifier
out = sys.argv[1]
torch.manual_seed(7)
rng = np.random.default_rng(7)
mlp = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3),
                          torch.nn.Softmax(dim=1))
cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                          torch.nn.Flatten(), torch.nn.Linear(2 * 3 * 3, 2))
k3 = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="gelu"),
                       keras.layers.BatchNormalization(), keras.layers.Dense(2)], name="k3")
X = rng.normal(size=(60, 4))
clf = MLPClassifier((5,), max_iter=300, random_state=0).fit(X, (X[:, 0] + X[:, 1] > 0) * 1)
done = {}
for name, model, x in (("mlp", mlp, rng.normal(size=(3, 4))),
                       ("cnn", cnn, rng.normal(size=(3, 1, 8, 8)))):
    x = torch.tensor(x, dtype=torch.float32)
    gate2xlsx.export(model, f"{out}/{name}.xlsx", example=x[:1])
    done[name] = {"x": x.reshape(len(x), -1).tolist(), "y": model(x).detach().numpy().tolist()}
x = rng.normal(size=(3, 4))
gate2xlsx.export(clf, f"{out}/clf.xlsx")
done["clf"] = {"x": x.tolist(), "y": clf.predict_proba(x).tolist()}
gate2xlsx.export(k3, f"{out}/k3.xlsx")
done["k3"] = {"x": x.tolist(), "y": k3.predict(x, verbose=0).tolist()}
print(json.dumps(done))
"""


IMPORTABLE = (
    "import importlib.util as u; print(all(u.find_spec(m) for m in ('gate2xlsx', 'openpyxl')))"
)


def exported_in(venv: str, code: str, tmp_path) -> dict:
    if run(venv, IMPORTABLE) != "True":  # run() skips where the venv itself is missing
        pytest.skip(f"gate2xlsx is not importable in {venv}: pip install --no-deps -e . openpyxl")
    return json.loads(run(venv, code, str(tmp_path), timeout=600))


@pytest.mark.parametrize("venv,code", [("tf215", TF_KERAS), ("k3", K3_TORCH_SKLEARN)],
                         ids=["tf.keras", "keras3-torch-sklearn"])  # fmt: skip
def test_live_objects_compute_the_frameworks_outputs(venv, code, tmp_path, engine):
    done = exported_in(venv, code, tmp_path)
    books, wants = [], []
    for name, rows in done.items():
        for r, (x, y) in enumerate(zip(rows["x"], rows["y"])):
            wb = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")
            set_named_values(wb, "input", np.asarray(x))
            books.append(tmp_path / f"{name}_row{r}.xlsx")
            wb.save(books[-1])
            wants.append((name, np.asarray(y).reshape(-1)))
    worst = 0.0
    for wb, (name, want) in zip(engine.recalc(*books), wants):
        got = named_values(wb, "output").reshape(-1)
        worst = max(worst, float(np.max(np.abs(got - want))))
        assert np.allclose(got, want, rtol=TOL, atol=TOL), (name, got, want)
    print(f"{venv}: {len(books)} rows of {sorted(done)}, worst {worst:.2e}")
