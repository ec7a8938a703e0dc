#!/usr/bin/env python
# coding: utf-8

# # Градиентный спуск
# Федоров К., функция $L(x) = 3x^2 - sin(x) + e^x - 5$

# In[1]:


import numpy as np
import matplotlib.pyplot as plt


# In[2]:


def L(x):
	return 3*x**2 - np.sin(x) + np.exp(x) - 5

def dL(x):
	return 6*x - np.cos(x) + np.exp(x)


# In[3]:


# три шага
alpha = 0.05
x = -1.5
pts = [x]
for k in range(3):
	x = x - alpha*dL(x)
	pts.append(x)
print(pts)
t = np.linspace(-2, 2, 100)
plt.plot(t, L(t))
plt.plot(pts, [L(p) for p in pts], 'o', color='r')
plt.show()


# In[4]:


def gd(x0, alpha=0.05, eps=1e-6, max_iter=10000):
	x = x0
	traj = [x0]
	for k in range(max_iter):
		x_new = x - alpha*dL(x)
		traj.append(x_new)
		if abs(L(x_new) - L(x)) < eps:
			return x_new, traj
		x = x_new
	return x, traj


x_min, traj = gd(-1.5)
print('min:', x_min, L(x_min))
plt.plot(t, L(t))
plt.plot(traj, [L(p) for p in traj], 'o-', color='r')
plt.show()


# In[5]:


def gd_momentum(x0, alpha=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
	x, v = x0, 0.0
	traj = [x0]
	for k in range(max_iter):
		v = gamma*v + alpha*dL(x)
		x_new = x - v
		traj.append(x_new)
		if abs(L(x_new) - L(x)) < eps:
			return x_new, traj
		x = x_new
	return x, traj


def gd_nesterov(x0, alpha=0.05, gamma=0.9, eps=1e-6, max_iter=10000):
	x, v = x0, 0.0
	traj = [x0]
	for k in range(max_iter):
		v = gamma*v + alpha*dL(x - gamma*v)
		x_new = x - v
		traj.append(x_new)
		if abs(L(x_new) - L(x)) < eps:
			return x_new, traj
		x = x_new
	return x, traj


xm, traj_m = gd_momentum(-1.5)
xn, traj_n = gd_nesterov(-1.5)
print(xm, len(traj_m), xn, len(traj_n))


# In[ ]:




