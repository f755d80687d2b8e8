"""Maps the top-level kernel/, modules/, plugins/ and schemas/ folders under the ``fabrikit`` import root.

setuptools' ``package-dir`` keeps both editable and wheel installs working with this layout; the package
list is computed so that a new module folder needs no packaging change.
"""

from setuptools import find_packages, setup

ROOTS = {"kernel": "kernel", "modules": "modules", "plugins": "plugins", "schemas": "schemas"}

packages = ["fabrikit"]
package_dir = {"fabrikit": "src/fabrikit"}
for name, folder in ROOTS.items():
    packages.append(f"fabrikit.{name}")
    package_dir[f"fabrikit.{name}"] = folder
    packages += [f"fabrikit.{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)
