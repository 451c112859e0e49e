"""Reference values for the Passive-Aggressive kinds, from scikit-learn; run with /usr/bin/python3.

scikit-learn's PassiveAggressiveClassifier / PassiveAggressiveRegressor trained with partial_fit
one row at a time, in order (no shuffling), with the same C, fit_intercept and epsilon;
loss "hinge" / "epsilon_insensitive" is PA-I and "squared_hinge" / "squared_epsilon_insensitive"
PA-II (scikit-learn has no plain PA: those cases are checked by hand in the unit test).
Writes expected_passive_aggressive.json, read by test/unit/test_passive_aggressive.cpp: the
training rows, then per case the spec, the decision function on held-out rows, the weights and
the intercept.
"""

import json
import os

import numpy as np
from sklearn.linear_model import PassiveAggressiveClassifier, PassiveAggressiveRegressor

rng = np.random.default_rng(7)
n_train, n_test, d = 300, 50, 5
scales = np.array([1.0, 10.0, 0.1, 3.0, 1.0])
X = rng.normal(size=(n_train + n_test, d)) * scales
true_w = np.array([1.5, -0.2, 8.0, 0.5, -1.0])
margin = X @ true_w + 0.3 + rng.normal(scale=0.5, size=n_train + n_test)
y_cls = (margin > 0).astype(int)
y_reg = margin * 2.0 + 1.0
Xtr, Xte = X[:n_train], X[n_train:]

cases = []
for kind in ("classifier", "regressor"):
    for variant, loss in (("pa-i", None), ("pa-ii", None)):
        for C in (0.01, 1.0):
            for fit_intercept in (True, False):
                spec = {"model": "passive_aggressive_" + kind, "C": C, "variant": variant,
                        "fit_intercept": fit_intercept}
                if kind == "classifier":
                    m = PassiveAggressiveClassifier(C=C, loss="hinge" if variant == "pa-i" else "squared_hinge",
                                                    fit_intercept=fit_intercept, shuffle=False)
                    for i in range(n_train):
                        m.partial_fit(Xtr[i:i + 1], y_cls[i:i + 1], classes=[0, 1])
                else:
                    eps = 0.1 if C == 1.0 else 0.5
                    spec["epsilon"] = eps
                    m = PassiveAggressiveRegressor(
                        C=C, epsilon=eps, fit_intercept=fit_intercept, shuffle=False,
                        loss="epsilon_insensitive" if variant == "pa-i" else "squared_epsilon_insensitive")
                    for i in range(n_train):
                        m.partial_fit(Xtr[i:i + 1], y_reg[i:i + 1])
                dec = m.decision_function(Xte) if kind == "classifier" else m.predict(Xte)
                cases.append({"spec": spec,
                              "weights": np.ravel(m.coef_).tolist(),
                              "intercept": float(np.ravel(m.intercept_)[0]),
                              "decision": np.ravel(dec).tolist()})

out = {"generated_by": "test/reference/passive_aggressive_ref.py",
       "train": Xtr.tolist(), "test": Xte.tolist(),
       "y_class": y_cls[:n_train].tolist(), "y_value": y_reg[:n_train].tolist(), "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "expected_passive_aggressive.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path, len(cases), "cases")
