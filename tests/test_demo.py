"""The browser demo: its fill without a browser, then the page in headless Chromium."""

import io
import os
import shutil
import socket
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from inpaintjax import demo, export


def _hole(shape, box=(30, 50, 10, 20)):
  mask = np.zeros(shape[:2], bool)
  top, left, h, w = box
  mask[top:top + h, left:left + w] = True
  return mask


def test_fill_compares_models_samples_and_classical_methods(tmp_path, unet_smoke_run):
  path = str(tmp_path / 'unet.msgpack')
  export.export(unet_smoke_run, path)
  page = demo.Demo([path])
  image = demo.example_image('coffee')
  mask = _hole(image.shape)
  results, table = page.fill(image, mask, truth=image)
  assert [c for _, c in results] == ['unet', 'telea', 'navier_stokes', 'biharmonic']
  for out, _ in results:
    assert out.shape == image.shape and np.array_equal(out[~mask], image[~mask])
  assert table.count('| ') >= 5 and 'hole PSNR' in table
  _, unknown = page.fill(image, mask)
  assert 'Pick an embedded example' in unknown
  # A sampling model shows several samples.
  page.fillers[0][1].task_name = 'diffusion'
  results, _ = page.fill(image, mask)
  assert [c for _, c in results][:3] == ['unet sample 1', 'unet sample 2', 'unet sample 3']


def test_bad_input_is_one_line():
  page = demo.Demo([], max_pixels=50 * 50)
  image = np.zeros((60, 60, 3), np.uint8)
  with pytest.raises(ValueError, match='at most 2,500'):
    page.fill(image, _hole(image.shape, (5, 5, 4, 4)))
  small = np.zeros((40, 40, 3), np.uint8)
  with pytest.raises(ValueError, match='nothing to inpaint'):
    page.fill(small, np.zeros((40, 40), bool))
  with pytest.raises(ValueError, match='no context'):
    page.fill(small, np.ones((40, 40), bool))
  with pytest.raises(ValueError, match='Unknown example'):
    demo.example_image('mona_lisa')
  with pytest.raises(ValueError, match='Unknown classical method'):
    demo.Demo([], methods=('photoshop',))
  assert demo.main(['--models', '/no/such/run']) == 2


def test_the_brush_layers_make_the_mask():
  layer = np.zeros((10, 12, 4), np.uint8)
  layer[2:4, 3:6] = (255, 0, 255, 255)  # Painted: alpha > 0.
  other = np.zeros((10, 12, 4), np.uint8)
  other[7, 1] = (255, 0, 255, 40)
  mask = demo.mask_from_layers([layer, other], (10, 12, 3))
  assert mask.sum() == 7 and mask[2:4, 3:6].all() and mask[7, 1]
  assert not demo.mask_from_layers([], (10, 12, 3)).any()
  with pytest.raises(ValueError, match='brush layer is 5×4'):
    demo.mask_from_layers([np.zeros((4, 5, 4), np.uint8)], (10, 12, 3))
  assert demo.build_parser().parse_args([]).models == ['shipped:cifar10']


def _browser_ready():
  try:
    import gradio  # noqa: F401
    import selenium  # noqa: F401
  except ImportError:
    return False
  return bool(shutil.which('chromium') and shutil.which('chromedriver'))


def _free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


@pytest.mark.skipif(not _browser_ready(), reason='needs gradio, selenium, chromium, chromedriver')
def test_the_page_fills_an_uploaded_image_in_a_real_browser(tmp_path):
  from selenium import webdriver
  from selenium.webdriver.common.by import By
  from selenium.webdriver.support.ui import WebDriverWait

  image = demo.example_image('retina')
  mask = _hole(image.shape)
  Image.fromarray(image).save(tmp_path / 'photo.png')
  Image.fromarray(mask.astype(np.uint8) * 255).save(tmp_path / 'mask.png')
  app = demo.build_app(demo.Demo([], methods=('biharmonic',)))
  port = _free_port()
  app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True,
             max_file_size='20mb')
  options = webdriver.ChromeOptions()
  options.binary_location = shutil.which('chromium')
  for flag in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync', '--no-first-run', f'--user-data-dir={tmp_path / "profile"}',
               '--window-size=1400,1800'):
    options.add_argument(flag)
  driver = webdriver.Chrome(service=webdriver.ChromeService(shutil.which('chromedriver')),
                            options=options)
  try:
    driver.get(f'http://127.0.0.1:{port}/')
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#editor input[type=file]'))
    driver.find_element(By.CSS_SELECTOR, '#editor input[type=file]').send_keys(
        str(tmp_path / 'photo.png'))
    driver.find_element(By.CSS_SELECTOR, '#mask_upload input[type=file]').send_keys(
        str(tmp_path / 'mask.png'))
    time.sleep(3)  # Both uploads reach the server before the click.
    driver.find_element(By.CSS_SELECTOR, '#fill').click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#fills img')
               or 'Error' in d.find_element(By.ID, 'table').text)
    assert 'Error' not in driver.find_element(By.ID, 'table').text
    driver.save_screenshot(str(tmp_path / 'demo.png'))
    if os.environ.get('INPAINTJAX_DEMO_SCREENSHOT'):  # README's screenshot, on request.
      driver.save_screenshot(os.environ['INPAINTJAX_DEMO_SCREENSHOT'])
    src = driver.find_element(By.CSS_SELECTOR, '#fills img').get_attribute('src')
    with urllib.request.urlopen(src, timeout=30) as r:
      filled = np.asarray(Image.open(io.BytesIO(r.read())).convert('RGB'))
  finally:
    driver.quit()
    app.close()
  assert filled.shape == image.shape
  assert np.array_equal(filled[~mask], image[~mask])  # Only the hole changed ...
  assert not np.array_equal(filled[mask], image[mask])  # ... and it did.
